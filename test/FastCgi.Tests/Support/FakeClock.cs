using Microsoft.Extensions.Time.Testing;

namespace FastCgi.Tests.Support;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that tells when a timer is set: advancing the clock before the host set the
/// timer it means to test would leave that timer untouched, so a test waits for the timer first.
/// </summary>
internal sealed class FakeClock : FakeTimeProvider
{
    private readonly List<(TimeSpan DueTime, TaskCompletionSource Set)> _waiting = [];
    private readonly List<TimeSpan> _set = [];

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        lock (_waiting)
        {
            _set.Add(dueTime);
            _waiting.RemoveAll(waiting => waiting.DueTime == dueTime && waiting.Set.TrySetResult());
        }

        return timer;
    }

    /// <summary>Completes once a timer due in <paramref name="dueTime"/> has been set (at once if one was), within <see cref="Bounded.Limit"/>.</summary>
    public Task TimerSetAsync(TimeSpan dueTime)
    {
        var set = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waiting)
        {
            if (_set.Contains(dueTime))
            {
                return Task.CompletedTask;
            }

            _waiting.Add((dueTime, set));
        }

        return set.Task.Within($"a timer due in {dueTime.TotalSeconds} s to be set");
    }
}
