using System.Globalization;

namespace FastCgi.Server;

/// <summary>The process's open-file limit, which bounds how many connections it can really hold.</summary>
internal static class DescriptorLimit
{
    // Descriptors kept for everything but connections: the runtime's own, the listening socket, spooled uploads.
    private const int Reserve = 256;

    /// <summary>
    /// <paramref name="configured"/>, lowered to what RLIMIT_NOFILE leaves for connections, so that FCGI_MAX_CONNS
    /// is a promise the process can keep (.NET raises the soft limit to the hard one at start-up).
    /// </summary>
    public static int CapConnections(int configured)
    {
        var limit = ReadSoftLimit();
        return limit is { } files ? (int)Math.Clamp(files - Reserve, 1, configured) : configured;
    }

    /// <summary>The soft "Max open files" of /proc/self/limits; null when unknown or unlimited.</summary>
    private static long? ReadSoftLimit()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/limits"))
            {
                if (line.StartsWith("Max open files", StringComparison.Ordinal))
                {
                    var soft = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                    return long.TryParse(soft, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;
                }
            }
        }
        catch (IOException)
        {
            // No /proc (not Linux): trust the configured limit.
        }
        catch (UnauthorizedAccessException)
        {
            // Same.
        }

        return null;
    }
}
