using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace FastCgi.Server;

/// <summary>
/// SIGTERM and SIGINT drain and stop the host, as <see cref="FastCgiHost.Stop"/> does; SIGHUP is not fatal
/// (process managers send it to reload).
/// </summary>
internal sealed class SignalHandlers : IDisposable
{
    private readonly PosixSignalRegistration[] _registrations;

    public SignalHandlers(Action stop, ILogger logger)
    {
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, signal => Stop(signal, stop, logger)),
            PosixSignalRegistration.Create(PosixSignal.SIGINT, signal => Stop(signal, stop, logger)),
            PosixSignalRegistration.Create(PosixSignal.SIGHUP, signal =>
            {
                signal.Cancel = true;
                ServerLog.SignalReceived(logger, "SIGHUP", "ignored");
            }),
        ];
    }

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }
    }

    private static void Stop(PosixSignalContext signal, Action stop, ILogger logger)
    {
        signal.Cancel = true;
        ServerLog.SignalReceived(logger, signal.Signal.ToString(), "draining and stopping");
        stop();
    }
}
