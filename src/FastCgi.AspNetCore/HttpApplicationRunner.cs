using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace FastCgi.AspNetCore;

/// <summary>
/// Runs one request through the ASP.NET Core application and ends its response, for FastCGI and CGI alike: an
/// exception before the response started becomes a 500 (or a <see cref="BadHttpRequestException"/>'s status);
/// after it started, the response is broken off so the web server sees a failure rather than a short answer.
/// </summary>
internal static partial class HttpApplicationRunner
{
    /// <summary>What became of the response.</summary>
    public enum Outcome
    {
        /// <summary>Complete: end the request normally.</summary>
        Complete,

        /// <summary>Broken after it started, or aborted by the application: end it as failed.</summary>
        Failed,
    }

    /// <summary>Runs the application; the caller ends the transport, then calls <see cref="FinishAsync"/>.</summary>
    public static async ValueTask<(TContext Context, Exception? Error, Outcome Outcome)> RunAsync<TContext>(
        IHttpApplication<TContext> application, RequestFeatures features, ILogger logger)
        where TContext : notnull
    {
        var context = application.CreateContext(features);
        Exception? error = null;
        try
        {
            Task processing;
            features.HoldFlushes();
            try
            {
                processing = application.ProcessRequestAsync(context);
            }
            finally
            {
                features.StopHoldingFlushes();
            }

            if (!processing.IsCompleted)
            {
                await SendHeldFlushAsync(features).ConfigureAwait(false);
            }

            await processing.ConfigureAwait(false);
            await features.StartResponseAsync(default).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            error = exception;
        }

        if (error is null)
        {
            return (context, null, features.AbortRequested ? Outcome.Failed : Outcome.Complete);
        }

        if (error is OperationCanceledException && features.TransportAborted)
        {
            // The client or the web server went away and the application stopped on RequestAborted, as asked.
            LogAborted(logger, features.TraceIdentifier);
            return (context, error, Outcome.Complete);
        }

        if (features.HasStarted || features.AbortRequested)
        {
            LogFailedAfterStart(logger, features.TraceIdentifier, error);
            return (context, error, Outcome.Failed);
        }

        var status = error is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError;
        LogUnhandled(logger, features.TraceIdentifier, status, error);
        features.ResetForError(status);
        try
        {
            await features.StartResponseAsync(default).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            LogFailedAfterStart(logger, features.TraceIdentifier, exception);
            return (context, error, Outcome.Failed);
        }

        return (context, error, Outcome.Complete);
    }

    /// <summary>After the transport ended the request: OnCompleted, then the application's context is disposed.</summary>
    public static async ValueTask FinishAsync<TContext>(IHttpApplication<TContext> application, RequestFeatures features, TContext context, Exception? error, ILogger logger)
        where TContext : notnull
    {
        if (await features.FireOnCompletedAsync().ConfigureAwait(false) is { } callbackError)
        {
            LogOnCompletedFailed(logger, features.TraceIdentifier, callbackError);
        }

        application.DisposeContext(context, error);
        features.Reset();
    }

    /// <summary>The application waits for something: a whole response it flushed goes to the web server now.</summary>
    private static async ValueTask SendHeldFlushAsync(RequestFeatures features)
    {
        try
        {
            await features.SendHeldFlushAsync().ConfigureAwait(false);
        }
        catch (IOException)
        {
            // The web server went away: ending the request finds the connection failed, and RequestAborted fires.
        }
    }

    [LoggerMessage(1, LogLevel.Error, "Request {TraceIdentifier}: unhandled exception, answered {Status}.")]
    private static partial void LogUnhandled(ILogger logger, string traceIdentifier, int status, Exception exception);

    [LoggerMessage(2, LogLevel.Error, "Request {TraceIdentifier}: unhandled exception after the response started; the response is broken off.")]
    private static partial void LogFailedAfterStart(ILogger logger, string traceIdentifier, Exception exception);

    [LoggerMessage(4, LogLevel.Debug, "Request {TraceIdentifier}: aborted by the web server or a lost connection.")]
    private static partial void LogAborted(ILogger logger, string traceIdentifier);

    [LoggerMessage(3, LogLevel.Error, "Request {TraceIdentifier}: an OnCompleted callback failed.")]
    private static partial void LogOnCompletedFailed(ILogger logger, string traceIdentifier, Exception exception);
}
