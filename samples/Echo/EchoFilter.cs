using System.Buffers;
using System.Globalization;
using FastCgi;

namespace Echo;

/// <summary>The Filter: FCGI_DATA, ASCII-uppercased; a length that does not match FCGI_DATA_LENGTH is a 500.</summary>
internal sealed class EchoFilter : Handler
{
    public override async ValueTask ProcessAsync(Request request, CancellationToken cancellationToken)
    {
        var data = request.Data;
        request.SetHeader("Content-Type", "text/plain");
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        long length = 0;
        try
        {
            int read;
            while ((read = await data.ReadAsync(buffer, cancellationToken)) > 0)
            {
                for (var i = 0; i < read; i++)
                {
                    if (buffer[i] is >= (byte)'a' and <= (byte)'z')
                    {
                        buffer[i] -= 'a' - 'A';
                    }
                }

                request.Write(buffer.AsSpan(0, read));
                length += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        var declared = request.GetEnvironment("FCGI_DATA_LENGTH");
        if (declared is null || !long.TryParse(declared, NumberStyles.None, CultureInfo.InvariantCulture, out var expected) || expected != length)
        {
            throw new InvalidDataException($"FCGI_DATA_LENGTH is {declared ?? "missing"} but {length} bytes of data came.");
        }
    }
}
