namespace FastCgi.Cgi.Output;

/// <summary>
/// What the response core needs from its request: the transport, and the meta-variables that gzip negotiation reads.
/// All of it asynchronous: the synchronous API waits on these (<see cref="SyncOverAsync"/>).
/// </summary>
internal interface IResponseTarget
{
    /// <summary>A CGI meta-variable of the request, or <c>null</c>.</summary>
    string? GetEnvironment(string name);

    /// <summary>Writes response bytes; the transport may hold them until <see cref="FlushAsync"/>.</summary>
    ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>Pushes what the transport holds to the client.</summary>
    ValueTask FlushAsync(CancellationToken cancellationToken);

    /// <summary>Ends the response.</summary>
    ValueTask CompleteAsync(CancellationToken cancellationToken);
}
