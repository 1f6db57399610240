using FastCgi.Server;
using Xunit;

namespace FastCgi.Tests.Server;

/// <summary>
/// When the guard calls the thread pool stuck: a probe not run for 500 ms while the guard ticked on time is a stall
/// whatever the cause; a probe that only looks late because the guard itself was not scheduled (a loaded machine)
/// is not, since more threads would only add to the load.
/// </summary>
public sealed class ThreadPoolGuardTests
{
    [Fact]
    public void A_probe_waiting_over_500_ms_while_the_guard_ticks_on_time_is_a_stall()
    {
        var probe = default(ThreadPoolGuard.ProbeClock);
        probe.Tick(1000);
        probe.Queued(1000);
        var now = 1000L;
        while (now < 1500)
        {
            now += 10;
            probe.Tick(now);
            Assert.False(probe.Stalled(now, running: 0, age: 0), $"Stalled after {now - 1000} ms.");
        }

        now += 10;
        probe.Tick(now);
        Assert.True(probe.Stalled(now, running: 0, age: 0));
    }

    [Fact]
    public void A_probe_late_because_the_guard_itself_was_not_scheduled_is_not_a_stall()
    {
        var probe = default(ThreadPoolGuard.ProbeClock);
        probe.Tick(1000);
        probe.Queued(1000);

        // The guard's 10 ms sleep took 600 ms: the machine ran neither it nor the pool's threads.
        probe.Tick(1600);
        Assert.False(probe.Stalled(1600, running: 0, age: 0));
        Assert.False(probe.Stalled(1600, running: 3, age: 600));

        // Once the guard runs on time again, the probe's wait counts: 500 ms more of it is a stall.
        var now = 1600L;
        while (now < 2100)
        {
            now += 10;
            probe.Tick(now);
        }

        Assert.True(probe.Stalled(now, running: 0, age: 0));
    }

    [Fact]
    public void A_probe_late_by_20_ms_is_a_stall_only_while_handlers_have_been_in_their_synchronous_part_as_long()
    {
        var probe = default(ThreadPoolGuard.ProbeClock);
        probe.Tick(1000);
        probe.Queued(1000);
        probe.Tick(1010);
        probe.Tick(1021);
        Assert.True(probe.Stalled(1021, running: 2, age: 21));
        Assert.False(probe.Stalled(1021, running: 2, age: 20));
        Assert.False(probe.Stalled(1021, running: 0, age: 21));
    }
}
