using System.Buffers.Binary;
using System.Text;
using FastCgi.Testing;
using static FastCgi.Testing.FcgiRecords;
using FastCgi.Protocol;

namespace FastCgi.Fuzz.Harnesses;

/// <summary>One generated request: what the web server sends and so what the handler must see.</summary>
internal sealed class SplitRequest
{
    public required ushort Id { get; init; }

    public required Role Role { get; init; }

    /// <summary>The pairs in the order sent; names are distinct once decoded.</summary>
    public required List<(byte[] Name, byte[] Value)> Pairs { get; init; }

    public required byte[] Stdin { get; init; }

    /// <summary>The FCGI_DATA stream; empty (and not sent) unless <see cref="Role"/> is Filter.</summary>
    public required byte[] Data { get; init; }

    /// <summary>The environ as the handler must see it: each name and value decoded as UTF-8.</summary>
    public Dictionary<string, string> Environ() =>
        Pairs.ToDictionary(pair => Encoding.UTF8.GetString(pair.Name), pair => Encoding.UTF8.GetString(pair.Value), StringComparer.Ordinal);
}

/// <summary>
/// Generates requests and encodes them the way a web server may: PARAMS, STDIN and DATA cut into records at any
/// offset (a name-value pair straddling records, spec 3.4), any padding, any reserved byte, small lengths sometimes in
/// the four-byte form, several requests' records interleaved, and the bytes cut into writes anywhere. The encoder is
/// written from the spec's byte layouts (spec 3.3, 3.4, 5.1), not with the library's writers, so the two check each other.
/// </summary>
internal static class SplitRequests
{
    /// <summary>The server's per-name and per-value limit (<see cref="FastCgi.Server.FastCgiServerLimits.MaxParamLength"/>): reached, never passed.</summary>
    public const int MaxItem = 256 * 1024;

    private const int MaxContent = ushort.MaxValue;

    /// <summary>
    /// Generates a request: up to 300 KiB of PARAMS (mostly a few KiB), names and values of every length class
    /// (0, 1 to 127 in a one-byte length, 128 and up in a four-byte one, up to <see cref="MaxItem"/>), up to 1000
    /// pairs, and a body (and, for the Filter role, data) of up to 512 KiB.
    /// </summary>
    public static SplitRequest Generate(ISplitChoices choices, ushort id, bool allowFilter)
    {
        var role = allowFilter && choices.Next(3) == 2 ? Role.Filter : Role.Responder;
        var fill = new Filler((uint)choices.Next(1 << 16) + 1, choices.Next(3));
        var budget = choices.Next(100) switch
        {
            < 85 => 8 * 1024,
            < 98 => 64 * 1024,
            _ => 300 * 1024,
        };
        var maxPairs = choices.Next(40) == 39 ? 1000 : 40;
        var count = choices.Next(maxPairs + 1);
        var pairs = new List<(byte[] Name, byte[] Value)>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var used = 0;
        for (var i = 0; i < count && used < budget; i++)
        {
            // Up to 8 bytes of length prefixes; whatever is left of the budget bounds the name, then the value.
            var nameLength = Length(choices, budget - used - 8);
            var valueLength = Length(choices, budget - used - 8 - nameLength);
            var name = fill.Next(nameLength);
            if (!names.Add(Encoding.UTF8.GetString(name)))
            {
                continue;
            }

            pairs.Add((name, fill.Next(valueLength)));
            used += 8 + nameLength + valueLength;
        }

        return new SplitRequest
        {
            Id = id,
            Role = role,
            Pairs = pairs,
            Stdin = fill.Next(BodyLength(choices)),
            Data = role == Role.Filter ? fill.Next(BodyLength(choices)) : [],
        };
    }

    /// <summary>
    /// The records of <paramref name="requests"/>, each request's in order (BEGIN_REQUEST, PARAMS, then STDIN and DATA
    /// mixed), the requests' records interleaved, cut into writes.
    /// </summary>
    public static List<byte[]> Encode(ISplitChoices choices, IReadOnlyList<SplitRequest> requests)
    {
        var queues = requests.Select(request => new Queue<byte[]>(Records(choices, request))).ToList();
        var wire = new MemoryStream();
        while (queues.Count > 0)
        {
            var index = choices.Next(queues.Count);
            var queue = queues[index];
            for (var run = 1 + choices.Next(4); run > 0 && queue.Count > 0; run--)
            {
                wire.Write(queue.Dequeue());
            }

            if (queue.Count == 0)
            {
                queues.RemoveAt(index);
            }
        }

        return Cut(choices, wire.ToArray());
    }

    /// <summary>The name-value encoding (spec 3.4); a length under 128 sometimes in the four-byte form, which is allowed.</summary>
    public static byte[] NameValues(ISplitChoices choices, IEnumerable<(byte[] Name, byte[] Value)> pairs)
    {
        var output = new MemoryStream();
        foreach (var (name, value) in pairs)
        {
            WriteLength(choices, output, name.Length);
            WriteLength(choices, output, value.Length);
            output.Write(name);
            output.Write(value);
        }

        return output.ToArray();
    }

    private static List<byte[]> Records(ISplitChoices choices, SplitRequest request)
    {
        // BEGIN_REQUEST body (spec 5.1): role, flags (FCGI_KEEP_CONN: the connection serves the next round), reserved.
        var records = new List<byte[]> { FcgiRecords.Record(BeginRequest, request.Id, [0, (byte)request.Role, 1, 0, 0, 0, 0, 0], Padding(choices, 8)) };
        records.AddRange(Stream(choices, Params, request.Id, NameValues(choices, request.Pairs)));
        var stdin = Stream(choices, Stdin, request.Id, request.Stdin);
        var data = request.Role == Role.Filter ? Stream(choices, Data, request.Id, request.Data) : [];

        // STDIN and DATA may come in any order relative to each other; each stream keeps its own.
        int s = 0, d = 0;
        while (s < stdin.Count || d < data.Count)
        {
            var takeData = d < data.Count && (s == stdin.Count || choices.Next(2) == 1);
            records.Add(takeData ? data[d++] : stdin[s++]);
        }

        return records;
    }

    /// <summary>A stream cut at random offsets into records of 1 to 65535 content bytes, ended by an empty record.</summary>
    private static List<byte[]> Stream(ISplitChoices choices, byte type, ushort requestId, byte[] data)
    {
        var records = new List<byte[]>();
        for (var at = 0; at < data.Length;)
        {
            var left = data.Length - at;
            var size = choices.Next(4) switch
            {
                0 => MaxContent,
                1 => 1 + choices.Next(16),
                2 => 1 + choices.Next(1024),
                _ => 1 + choices.Next(MaxContent),
            };
            size = Math.Min(size, left);
            records.Add(FcgiRecords.Record(type, requestId, data.AsSpan(at, size), Padding(choices, size), reserved: (byte)choices.Next(256), paddingByte: (byte)choices.Next(256)));
            at += size;
        }

        // An empty record ends the stream, so it is only ever the last one.
        records.Add(FcgiRecords.Record(type, requestId, [], Padding(choices, 0)));
        return records;
    }

    private static int Padding(ISplitChoices choices, int contentLength) => choices.Next(4) switch
    {
        0 => 0,
        1 => (8 - (contentLength % 8)) % 8,
        2 => choices.Next(256),
        _ => 255,
    };

    /// <summary>Cuts the bytes into writes: whole, or pieces that split headers, contents and paddings anywhere.</summary>
    private static List<byte[]> Cut(ISplitChoices choices, byte[] wire)
    {
        var writes = new List<byte[]>();
        for (var at = 0; at < wire.Length;)
        {
            var size = choices.Next(8) switch
            {
                0 => wire.Length,
                1 => 1 + choices.Next(16),
                2 or 3 => 1 + choices.Next(4096),
                _ => 1 + choices.Next(128 * 1024),
            };
            size = Math.Min(size, wire.Length - at);
            writes.Add(wire[at..(at + size)]);
            at += size;
        }

        return writes;
    }

    /// <summary>A name or value length of one of the classes, at most <paramref name="room"/> (and <see cref="MaxItem"/>).</summary>
    private static int Length(ISplitChoices choices, int room)
    {
        var length = choices.Next(10) switch
        {
            0 or 1 => 0,
            2 or 3 or 4 or 5 => 1 + choices.Next(127),
            6 or 7 => 128 + choices.Next(1024 - 128),
            8 => 1024 + choices.Next(65536 - 1024),
            _ => 65536 + choices.Next(MaxItem - 65536 + 1),
        };
        return Math.Clamp(length, 0, Math.Max(0, Math.Min(room, MaxItem)));
    }

    /// <summary>
    /// Mostly small; one in 64 past <see cref="FastCgi.Server.FastCgiServerLimits.MaxBufferedInputBytes"/> (256 KiB), so the read loop
    /// waits for that handler while other requests' records are queued behind it.
    /// </summary>
    private static int BodyLength(ISplitChoices choices) => choices.Next(64) switch
    {
        < 24 => 0,
        < 48 => 1 + choices.Next(127),
        < 60 => 128 + choices.Next(8192),
        < 63 => choices.Next(64 * 1024),
        _ => choices.Next(512 * 1024),
    };

    private static void WriteLength(ISplitChoices choices, MemoryStream output, int length)
    {
        if (length < 128 && choices.Next(8) != 7)
        {
            output.WriteByte((byte)length);
            return;
        }

        Span<byte> four = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(four, (uint)length | 0x8000_0000);
        output.Write(four);
    }

    /// <summary>
    /// Content bytes from a xorshift generator: letters, 7-bit bytes (NUL and controls too), or any byte (invalid
    /// UTF-8 decodes to U+FFFD on both sides, which is why names must be distinct once decoded).
    /// </summary>
    private sealed class Filler(uint state, int alphabet)
    {
        private uint _state = state;

        public byte[] Next(int length)
        {
            var bytes = new byte[length];
            for (var i = 0; i < bytes.Length; i++)
            {
                _state ^= _state << 13;
                _state ^= _state >> 17;
                _state ^= _state << 5;
                bytes[i] = alphabet switch
                {
                    0 => (byte)('a' + (_state % 26)),
                    1 => (byte)(_state & 0x7F),
                    _ => (byte)_state,
                };
            }

            return bytes;
        }
    }
}
