namespace FastCgi.Cgi.Output;

/// <summary>The synchronous output API as thin wrappers over the asynchronous core.</summary>
internal static class SyncOverAsync
{
    /// <summary>
    /// Waits for <paramref name="operation"/>. Buffered output completes synchronously, and then nothing is
    /// allocated; only a transport that really has to wait costs a <see cref="Task"/>. The core never captures a
    /// synchronization context (every await is <c>ConfigureAwait(false)</c>), so blocking here cannot deadlock on it.
    /// </summary>
    public static void Wait(ValueTask operation)
    {
        if (operation.IsCompleted)
        {
            // Also releases a pooled IValueTaskSource and rethrows a synchronous failure as itself.
            operation.GetAwaiter().GetResult();
            return;
        }

        operation.AsTask().GetAwaiter().GetResult();
    }
}
