using Flannel.Backends.Udp;

namespace Flannel.Backends.Tests.UdpUnit;

[Unit]
public class PumpPollTests
{
    private const short PollIn = 0x001, PollErr = 0x008, PollHup = 0x010, PollNval = 0x020;

    [Theory]
    [InlineData(PollIn, 0, (int)PumpWake.Readable)]
    [InlineData(PollErr, 0, (int)PumpWake.Error)] // a deleted TUN: tun_chr_poll() reports EPOLLERR for good
    [InlineData(PollIn | PollErr, 0, (int)PumpWake.Error)]
    [InlineData(PollHup, 0, (int)PumpWake.Error)]
    [InlineData(PollNval, 0, (int)PumpWake.Error)]
    [InlineData(PollErr, PollIn, (int)PumpWake.Stop)] // the stop event wins
    [InlineData(PollIn, PollIn, (int)PumpWake.Stop)]
    public void The_wait_is_classified_so_an_error_never_looks_readable(short revents, short stop, int expected) =>
        Assert.Equal((PumpWake)expected, PumpPoll.Classify(revents, stop));
}
