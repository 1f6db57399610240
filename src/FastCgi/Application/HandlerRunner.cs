using System.Runtime.CompilerServices;

namespace FastCgi;

/// <summary>Runs a handler on a request the same way under every protocol: process, report errors, close.</summary>
internal static class HandlerRunner
{
    /// <summary>
    /// Runs <paramref name="handler"/>. An exception goes to <see cref="Handler.Traceback"/> (an abort's
    /// cancellation is not an error); an exception in the error page itself only reaches the error log.
    /// The request is always closed.
    /// </summary>
    public static ValueTask RunAsync(Handler handler, Request request) => RunAsync(() => handler, request);

    /// <summary>
    /// Makes a handler with <paramref name="factory"/> and runs it; a factory that throws is reported like a
    /// handler that throws (the client gets a 500, the request still ends). With <paramref name="disposeRequest"/>
    /// the request is disposed once it has been closed.
    /// </summary>
    // Pooled: under FastCGI a synchronous handler runs on a handler thread, so this completes asynchronously on every
    // request, and a new state machine box each time would be its largest allocation.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public static async ValueTask RunAsync(Func<Handler> factory, Request request, bool disposeRequest = false)
    {
        try
        {
            Handler? handler = null;
            try
            {
                handler = factory();
                await handler.ProcessAsync(request, request.RequestAborted).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (request.Aborted != AbortReason.None)
            {
                // The handler stopped because the request was aborted: nothing to report, nobody to tell.
            }
            catch (Exception exception)
            {
                ReportError(handler, request, exception);
                if (request.HeadersSent && !request.IsClosed && request.Aborted == AbortReason.None)
                {
                    // Part of the response is out: ending it normally would pass the truncated body off as complete.
                    // As ASP.NET Core aborts the connection, end it as failed so that the web server sees an error.
                    await request.FailAsync().ConfigureAwait(false);
                    return;
                }
            }

            try
            {
                await request.CloseAsync().ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                TryLog(request, $"Closing the response failed: {exception}");
            }
        }
        finally
        {
            if (disposeRequest)
            {
                request.Dispose();
            }
        }
    }

    private static void ReportError(Handler? handler, Request request, Exception exception)
    {
        try
        {
            if (handler is null)
            {
                request.Traceback(exception);
            }
            else
            {
                handler.Traceback(request, exception);
            }
        }
        catch (Exception secondary) when (secondary is not OutOfMemoryException)
        {
            TryLog(request, $"{exception}\nThe error handler failed too: {secondary}");
        }
    }

    private static void TryLog(Request request, string message)
    {
        try
        {
            request.Error(message);
        }
        catch (IOException)
        {
            // The error log is gone with the connection; there is nowhere left to report to.
        }
    }
}
