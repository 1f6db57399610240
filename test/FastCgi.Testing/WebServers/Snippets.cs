namespace FastCgi.Testing;

/// <summary>
/// The config snippets of docs/deployment.md (docs/snippets/*), which the interoperability tests run: one source for
/// the guide and the tests. The snippets use example paths and addresses; <see cref="Render"/> puts this run's in.
/// </summary>
public static class Snippets
{
    public static string Folder { get; } = Path.Combine(RepositoryPaths.Root, "docs", "snippets");

    public static string Read(string name) => File.ReadAllText(Path.Combine(Folder, name));

    /// <summary>
    /// The snippet with its example values replaced: the web server's <c>127.0.0.1:8080</c> by
    /// <paramref name="port"/>, <c>/run/echo</c> by the server's temp folder, <c>/srv/echo</c> by a copy of the
    /// built echo sample in the temp folder, <c>/srv/www</c> by the temp folder's <c>www</c>; first each of <paramref name="more"/> (this run's application sockets).
    /// </summary>
    public static string Render(string name, WebServerProcess server, int port, IReadOnlyDictionary<string, string>? more = null)
    {
        var text = Read(name);
        foreach (var (example, actual) in more ?? new Dictionary<string, string>())
        {
            text = text.Replace(example, actual, StringComparison.Ordinal);
        }

        return text
            .Replace("127.0.0.1:8080", "127.0.0.1:" + WebServerProcess.Text(port), StringComparison.Ordinal)
            .Replace("/run/echo", server.Folder, StringComparison.Ordinal)
            .Replace("/srv/echo", server.ApplicationFolder, StringComparison.Ordinal)
            .Replace("/srv/www", server.PathIn("www"), StringComparison.Ordinal);
    }
}
