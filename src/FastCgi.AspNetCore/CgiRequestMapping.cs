using System.Buffers;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace FastCgi.AspNetCore;

/// <summary>The CGI variables (RFC 3875 4.1) turned into the parts of an ASP.NET Core request.</summary>
internal static class CgiRequestMapping
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// The target: <c>RawTarget</c> is REQUEST_URI as the client sent it (rebuilt from SCRIPT_NAME, PATH_INFO and
    /// QUERY_STRING when the web server does not pass it). The path is decoded once, from the raw target, keeping
    /// <c>%2F</c> as Kestrel does so a slash inside a segment stays distinguishable, and its dot segments removed
    /// (RFC 3986 5.2.4). <c>PathBase</c> is SCRIPT_NAME only when the web server split the path (PATH_INFO set):
    /// nginx and Apache put the whole path in SCRIPT_NAME and pass no PATH_INFO, so the application owns it all.
    /// </summary>
    public static (string PathBase, string Path, string QueryString, string RawTarget) Target(RequestVariables environ)
    {
        var requestUri = environ[CgiVariable.RequestUri];
        var scriptName = environ[CgiVariable.ScriptName] ?? "";
        var pathInfo = environ[CgiVariable.PathInfo] ?? "";
        var query = environ[CgiVariable.QueryString];
        string rawTarget;
        string rawPath;
        if (!string.IsNullOrEmpty(requestUri))
        {
            rawTarget = requestUri;
            var mark = requestUri.IndexOf('?', StringComparison.Ordinal);
            rawPath = OriginForm(mark >= 0 ? requestUri[..mark] : requestUri);
            query ??= mark >= 0 ? requestUri[(mark + 1)..] : "";
        }
        else
        {
            rawPath = Uri.EscapeDataString(scriptName + pathInfo).Replace("%2F", "/", StringComparison.Ordinal);
            query ??= "";
            rawTarget = query.Length > 0 ? rawPath + "?" + query : rawPath;
        }

        var path = RemoveDotSegments(DecodePath(rawPath));
        var pathBase = "";
        if (pathInfo.Length > 0 && scriptName.Length > 0 && path.StartsWith(scriptName, StringComparison.Ordinal)
            && (path.Length == scriptName.Length || path[scriptName.Length] == '/'))
        {
            pathBase = scriptName.TrimEnd('/');
            path = path[pathBase.Length..];
        }

        return (pathBase, path.Length == 0 && pathBase.Length == 0 ? "/" : path, query.Length > 0 ? "?" + query : "", rawTarget);
    }

    /// <summary>The scheme: HTTPS (RFC 3875 does not define it; every web server sends <c>on</c>), else REQUEST_SCHEME.</summary>
    public static string Scheme(RequestVariables environ)
    {
        var https = environ[CgiVariable.Https];
        if (https is not null && (https.Equals("on", StringComparison.OrdinalIgnoreCase) || https == "1"))
        {
            return "https";
        }

        return environ[CgiVariable.RequestScheme] switch
        {
            null or "" or "http" => "http",
            "https" => "https",
            var scheme => scheme.ToLowerInvariant(),
        };
    }

    /// <summary>
    /// The request headers: every <c>HTTP_*</c> variable (RFC 3875 4.1.18) named back as a header
    /// (<c>HTTP_USER_AGENT</c> → <c>User-Agent</c>), CONTENT_TYPE and CONTENT_LENGTH (an empty one, as nginx sends
    /// for a GET, is no header), and Host from SERVER_NAME and SERVER_PORT when the web server passed no HTTP_HOST.
    /// </summary>
    public static void Headers(RequestVariables environ, IHeaderDictionary headers)
    {
        foreach (var header in environ.Headers)
        {
            // Web servers join a repeated header into one variable; a variable sent twice counts once, the last.
            headers[header.Name] = header.Value;
        }

        if (environ[CgiVariable.ContentType] is { Length: > 0 } contentType)
        {
            headers.ContentType = contentType;
        }

        if (ContentLength(environ) is { } length)
        {
            headers.ContentLength = length;
        }

        if (!environ.HasHeader("HTTP_HOST"u8) && environ[CgiVariable.ServerName] is { Length: > 0 } serverName)
        {
            var port = environ[CgiVariable.ServerPort];
            headers.Host = string.IsNullOrEmpty(port) || port == "80" || port == "443" ? serverName : serverName + ":" + port;
        }
    }

    /// <summary>CONTENT_LENGTH (RFC 3875 4.1.2), or null when absent, empty or not a number.</summary>
    public static long? ContentLength(RequestVariables environ) =>
        long.TryParse(environ[CgiVariable.ContentLength], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var length)
            ? length
            : null;

    /// <summary>The path of an absolute-form target (<c>http://host/path</c>, RFC 9112 3.2.2).</summary>
    private static string OriginForm(string rawPath)
    {
        if (rawPath.StartsWith('/'))
        {
            return rawPath;
        }

        var authority = rawPath.IndexOf("://", StringComparison.Ordinal);
        if (authority < 0)
        {
            return rawPath;
        }

        var slash = rawPath.IndexOf('/', authority + 3);
        return slash < 0 ? "/" : rawPath[slash..];
    }

    /// <summary>Percent-decodes a path as UTF-8 except <c>%2F</c>; a path that does not decode to UTF-8 stays raw.</summary>
    internal static string DecodePath(string raw)
    {
        if (!raw.Contains('%', StringComparison.Ordinal))
        {
            return raw;
        }

        var bytes = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(raw.Length));
        try
        {
            var length = 0;
            for (var i = 0; i < raw.Length; i++)
            {
                var c = raw[i];
                if (c == '%' && i + 2 < raw.Length && IsHex(raw[i + 1]) && IsHex(raw[i + 2]))
                {
                    var value = (byte)((Hex(raw[i + 1]) << 4) | Hex(raw[i + 2]));
                    if (value == '/')
                    {
                        length += Encoding.UTF8.GetBytes(raw.AsSpan(i, 3), bytes.AsSpan(length));
                    }
                    else
                    {
                        bytes[length++] = value;
                    }

                    i += 2;
                }
                else
                {
                    length += Encoding.UTF8.GetBytes(raw.AsSpan(i, 1), bytes.AsSpan(length));
                }
            }

            return StrictUtf8.GetString(bytes, 0, length);
        }
        catch (DecoderFallbackException)
        {
            return raw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    /// <summary>RFC 3986 5.2.4 on a path: <c>/a/./b/../c</c> → <c>/a/c</c>.</summary>
    internal static string RemoveDotSegments(string path)
    {
        if (!path.Contains("/.", StringComparison.Ordinal))
        {
            return path;
        }

        var output = new List<string>();
        var segments = path.Split('/');
        for (var i = 1; i < segments.Length; i++)
        {
            var segment = segments[i];
            var last = i == segments.Length - 1;
            if (segment == ".")
            {
                if (last)
                {
                    output.Add("");
                }
            }
            else if (segment == "..")
            {
                if (output.Count > 0)
                {
                    output.RemoveAt(output.Count - 1);
                }

                if (last)
                {
                    output.Add("");
                }
            }
            else
            {
                output.Add(segment);
            }
        }

        return "/" + string.Join('/', output);
    }

    private static bool IsHex(char c) => char.IsAsciiHexDigit(c);

    private static int Hex(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
