namespace FastCgi.Connection;

/// <summary>What a request holds of the server-wide request slots (<see cref="IRequestAdmission"/>).</summary>
internal enum RequestSlot
{
    /// <summary>Nothing: a status or ping request, or one that has ended.</summary>
    None,

    /// <summary>A slot, counted as a request (max_requests, the status page's figures).</summary>
    Counted,

    /// <summary>A slot not counted yet: a Responder request whose PARAMS will show whether it asks for a status page.</summary>
    Held,

    /// <summary>A place in the reserve beyond the slots, for a request that must turn out to ask for a status page.</summary>
    Reserved,
}
