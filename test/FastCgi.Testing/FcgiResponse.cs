using System.Text;

namespace FastCgi.Testing;

/// <summary>A FastCGI response collected until END_REQUEST.</summary>
public sealed record FcgiResponse(byte[] Stdout, string Stderr, int AppStatus, byte ProtocolStatus, int StdoutRecords)
{
    public string Text => Encoding.UTF8.GetString(Stdout);

    /// <summary>The CGI head (before the blank line).</summary>
    public string Head => Text.Split("\r\n\r\n", 2)[0];

    /// <summary>The body bytes after the blank line.</summary>
    public byte[] Body
    {
        get
        {
            var index = Stdout.AsSpan().IndexOf("\r\n\r\n"u8);
            return index < 0 ? [] : Stdout[(index + 4)..];
        }
    }

    public string BodyText => Encoding.UTF8.GetString(Body);

    public string? Header(string name) => Head.Split("\r\n")
        .Select(line => line.Split(": ", 2))
        .Where(parts => parts.Length == 2 && parts[0].Equals(name, StringComparison.OrdinalIgnoreCase))
        .Select(parts => parts[1])
        .FirstOrDefault();
}
