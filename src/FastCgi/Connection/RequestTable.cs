namespace FastCgi.Connection;

/// <summary>
/// The requests of one connection by id (spec 3.3) and the connection's admission: how many may run at once,
/// the server-wide slots, when the connection became idle, and whether it is closing or asked to stop. Every
/// change happens under one lock.
/// </summary>
internal sealed class RequestTable(FastCgiConnectionSettings settings)
{
    private readonly Dictionary<ushort, FastCgiRequestContext> _requests = [];
    private readonly Lock _lock = new();
    private TaskCompletionSource? _allDone;
    private int _inFlight;
    private bool _stopRequested;
    private long _idleSince = settings.TimeProvider.GetTimestamp();

    // The read loop's last found request: the records of a request mostly follow one another, and while it is listed
    // (only a release, under the lock, unlists it) it is what the dictionary would return for its id.
    private FastCgiRequestContext? _last;

    private volatile bool _closing;

    /// <summary>Whether the connection is to close: no new request, the read loop ends.</summary>
    public bool Closing => _closing;

    /// <summary>Whether a request ever began on the connection.</summary>
    public bool AnyBegun { get; private set; }

    /// <summary>When the connection last became idle (<see cref="TimeProvider.GetTimestamp"/>); while busy, the maximum.</summary>
    public long IdleSince
    {
        get
        {
            lock (_lock)
            {
                return _inFlight > 0 || Closing ? long.MaxValue : _idleSince;
            }
        }
    }

    /// <summary>Admits a request as <paramref name="admitted"/>, or says which END_REQUEST status refuses it (spec 5.5).</summary>
    /// <exception cref="ProtocolException">The id is already in use.</exception>
    public ProtocolStatus? TryAdmit(ushort requestId, Func<FastCgiRequestContext> context, Role role, bool keepConnection, bool roleKnown, out FastCgiRequestContext? admitted)
    {
        admitted = null;
        lock (_lock)
        {
            if (_requests.ContainsKey(requestId))
            {
                ProtocolException.Throw(ProtocolRejectionReason.RequestIdInUse, requestId);
            }

            if (_requests.Count >= settings.MaxRequestsPerConnection)
            {
                // Spec 5.5: an application that does not multiplex refuses a second request with CANT_MPX_CONN.
                return settings.Multiplexed ? ProtocolStatus.Overloaded : ProtocolStatus.CantMultiplexConnection;
            }

            if (!roleKnown)
            {
                return ProtocolStatus.UnknownRole;
            }

            // A Responder request may be one the server answers itself (its status page): its slot counts as a request
            // only once its PARAMS show it is not (Settle), and with every slot taken it may wait for them in the reserve.
            var maybePage = settings.ServerPages is not null && role == Role.Responder;
            var slot = _stopRequested ? RequestSlot.None
                : !maybePage ? (settings.Admission.TryAdmit() ? RequestSlot.Counted : RequestSlot.None)
                : settings.Admission.TryHold() ? RequestSlot.Held
                : settings.Admission.TryReserve() ? RequestSlot.Reserved
                : RequestSlot.None;
            if (slot == RequestSlot.None)
            {
                return ProtocolStatus.Overloaded;
            }

            var request = context();
            request.Begin(requestId, role, keepConnection);
            request.Slot = slot;
            _requests.Add(requestId, request);
            request.Listed = true;
            _last = request;
            _inFlight++;
            AnyBegun = true;
            admitted = request;
            return null;
        }
    }

    /// <summary>
    /// Settles the slot of a request whose PARAMS showed what it asks for: a status or ping request gives its slot back
    /// (the server answers it, not the application); any other counts it as a request, or, admitted in the reserve,
    /// is refused (false: FCGI_OVERLOADED).
    /// </summary>
    public bool Settle(FastCgiRequestContext request, bool page)
    {
        lock (_lock)
        {
            switch (request.Slot)
            {
                case RequestSlot.Held when page:
                    settings.Admission.Drop();
                    break;
                case RequestSlot.Held:
                    settings.Admission.Promote();
                    request.Slot = RequestSlot.Counted;
                    return true;
                case RequestSlot.Reserved:
                    settings.Admission.Unreserve();
                    break;
                default:
                    return true;
            }

            request.Slot = RequestSlot.None;
            return page;
        }
    }

    /// <summary>The request with <paramref name="requestId"/>; called by the read loop only.</summary>
    public bool TryGet(ushort requestId, out FastCgiRequestContext request)
    {
        // A context's id changes only in TryAdmit, on the read loop; a release racing this read is the same race as
        // one right after a locked look-up.
        if (_last is { } last && last.Id == requestId && last.Listed)
        {
            request = last;
            return true;
        }

        lock (_lock)
        {
            if (!_requests.TryGetValue(requestId, out request!))
            {
                return false;
            }
        }

        _last = request;
        return true;
    }

    /// <summary>The requests on the connection now.</summary>
    public FastCgiRequestContext[] Snapshot()
    {
        lock (_lock)
        {
            return [.. _requests.Values];
        }
    }

    /// <summary>
    /// Takes the request off the connection, once: frees its id and its server-wide slot. Returns whether this
    /// call did it, and whether the connection should end now.
    /// </summary>
    public (bool Released, bool Close) Release(FastCgiRequestContext request)
    {
        bool close;
        RequestSlot slot;
        lock (_lock)
        {
            if (!_requests.TryGetValue(request.Id, out var current) || current != request)
            {
                return (false, false);
            }

            _requests.Remove(request.Id);
            request.Listed = false;
            slot = request.Slot;
            request.Slot = RequestSlot.None;
            if (!request.KeepConnection)
            {
                // Spec 5.1: without FCGI_KEEP_CONN the application closes the connection after the request.
                _closing = true;
            }

            close = Closing || (_stopRequested && _requests.Count == 0);
        }

        switch (slot)
        {
            case RequestSlot.Counted:
                settings.Admission.Leave();
                break;
            case RequestSlot.Held:
                settings.Admission.Drop();
                break;
            case RequestSlot.Reserved:
                settings.Admission.Unreserve();
                break;
        }

        return (true, close);
    }

    /// <summary>A released request's last write is done; the connection may close once none is left.</summary>
    /// <returns>Whether the connection should end now: it was asked to stop, and this was its last request.</returns>
    public bool Settle()
    {
        lock (_lock)
        {
            if (--_inFlight > 0)
            {
                return false;
            }

            _idleSince = settings.TimeProvider.GetTimestamp();
            _allDone?.TrySetResult();

            // A stop asked for after this request's release found it still in flight, so it ends the connection here.
            return _stopRequested;
        }
    }

    /// <summary>Closes the connection if no request is in flight; false when one is.</summary>
    public bool TryCloseIdle()
    {
        lock (_lock)
        {
            if (_inFlight > 0 || Closing)
            {
                return false;
            }

            _closing = true;
            return true;
        }
    }

    /// <summary>The connection is to close (a failed response, the end of input).</summary>
    public void Close()
    {
        lock (_lock)
        {
            _closing = true;
        }
    }

    /// <summary>Refuses new requests from now on; true when the connection is idle and can end at once.</summary>
    public bool RequestStop()
    {
        lock (_lock)
        {
            _stopRequested = true;
            return _inFlight == 0;
        }
    }

    /// <summary>Completes when every request that began has settled.</summary>
    public Task WhenAllSettledAsync()
    {
        lock (_lock)
        {
            if (_inFlight == 0)
            {
                return Task.CompletedTask;
            }

            _allDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
            return _allDone.Task;
        }
    }
}
