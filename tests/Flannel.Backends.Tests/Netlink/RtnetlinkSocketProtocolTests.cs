using Flannel.Backends.Netlink;
using static Flannel.Backends.Interop.LinuxNetlink;

namespace Flannel.Backends.Tests.Netlink;

/// <summary>The request/ack and dump protocol against a scripted kernel (<see cref="FakeKernel"/>).</summary>
[Unit]
public class RtnetlinkSocketProtocolTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_request_always_asks_for_an_ack_and_ends_at_its_own_ack()
    {
        using var kernel = FakeKernel.Create();
        var names = new List<string>();
        var request = Task.Run(() => kernel.Client.Request(FakeKernel.LinkDumpRequest(), "get link", m =>
        {
            if (FakeKernel.ReadName(m, out var name))
            {
                names.Add(name);
            }
        }));

        var (flags, sequence) = kernel.ReceiveRequest();
        Assert.Equal(NLM_F_REQUEST | NLM_F_ACK, flags);
        // A late reply to some earlier request (other sequence number) must be ignored, error or not.
        kernel.Send(FakeKernel.Link(sequence - 1, "stale", 0), FakeKernel.Ack(sequence - 1, -17));
        kernel.Send(FakeKernel.Link(sequence, "veth0", 0));
        kernel.Send(FakeKernel.Ack(sequence));
        await request.WaitAsync(Timeout);

        Assert.Equal(["veth0"], names);
    }

    [Fact]
    public async Task An_error_becomes_a_NetlinkException_with_errno_strerror_and_the_kernel_message()
    {
        using var kernel = FakeKernel.Create();
        var request = Task.Run(() => kernel.Client.Request(FakeKernel.LinkDumpRequest(), "add route 10.5.2.0/24"));

        var (_, sequence) = kernel.ReceiveRequest();
        kernel.Send(FakeKernel.Ack(sequence, -22, "Nexthop has invalid gateway"));
        var e = await Assert.ThrowsAsync<NetlinkException>(() => request.WaitAsync(Timeout));

        Assert.Equal(22, e.Errno);
        Assert.Equal("Nexthop has invalid gateway", e.KernelMessage);
        Assert.Equal("add route 10.5.2.0/24 failed: Invalid argument (errno 22): Nexthop has invalid gateway", e.Message);
    }

    [Fact]
    public async Task The_kernel_message_is_found_after_an_echoed_request_payload()
    {
        using var kernel = FakeKernel.Create();
        var request = Task.Run(() => kernel.Client.Request(FakeKernel.LinkDumpRequest(), "set link"));

        var (_, sequence) = kernel.ReceiveRequest();
        // Without NETLINK_CAP_ACK the kernel echoes the whole request (13 bytes here, padded) before the TLVs.
        kernel.Send(FakeKernel.Ack(sequence, -19, "Device not found", echoedPayload: new byte[13]));
        var e = await Assert.ThrowsAsync<NetlinkException>(() => request.WaitAsync(Timeout));

        Assert.Equal(19, e.Errno);
        Assert.Equal("Device not found", e.KernelMessage);
    }

    [Fact]
    public async Task A_dump_reads_every_part_until_done()
    {
        using var kernel = FakeKernel.Create();
        var dump = Task.Run(() => kernel.Client.Dump<string>(FakeKernel.LinkDumpRequest(), "list links", FakeKernel.ReadName));

        var (flags, sequence) = kernel.ReceiveRequest();
        Assert.Equal(NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP, flags);
        kernel.Send(FakeKernel.Link(sequence, "a"), FakeKernel.Link(sequence, "b"));
        kernel.Send(FakeKernel.Link(sequence, "c"));
        kernel.Send(FakeKernel.Done(sequence));

        Assert.Equal(["a", "b", "c"], await dump.WaitAsync(Timeout));
    }

    [Fact]
    public async Task An_interrupted_dump_is_taken_again_and_only_the_clean_one_counts()
    {
        using var kernel = FakeKernel.Create();
        var dump = Task.Run(() => kernel.Client.Dump<string>(FakeKernel.LinkDumpRequest(), "list links", FakeKernel.ReadName));

        var (_, first) = kernel.ReceiveRequest();
        kernel.Send(FakeKernel.Link(first, "old-a"), FakeKernel.Link(first, "old-b", NLM_F_MULTI | NLM_F_DUMP_INTR));
        kernel.Send(FakeKernel.Done(first, flags: NLM_F_MULTI | NLM_F_DUMP_INTR));
        var (_, second) = kernel.ReceiveRequest();
        Assert.NotEqual(first, second);
        kernel.Send(FakeKernel.Link(second, "new-a"), FakeKernel.Done(second));

        Assert.Equal(["new-a"], await dump.WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_dump_interrupted_every_time_gives_up_with_EINTR()
    {
        using var kernel = FakeKernel.Create();
        var dump = Task.Run(() => kernel.Client.Dump<string>(FakeKernel.LinkDumpRequest(), "list links", FakeKernel.ReadName));

        for (int attempt = 0; attempt < 10; attempt++)
        {
            var (_, sequence) = kernel.ReceiveRequest();
            kernel.Send(FakeKernel.Link(sequence, "x", NLM_F_MULTI | NLM_F_DUMP_INTR), FakeKernel.Done(sequence));
        }
        var e = await Assert.ThrowsAsync<NetlinkException>(() => dump.WaitAsync(Timeout));

        Assert.Equal(4, e.Errno);
        Assert.Contains("interrupted", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_dump_that_fails_reports_the_error_from_NLMSG_DONE()
    {
        using var kernel = FakeKernel.Create();
        var dump = Task.Run(() => kernel.Client.Dump<string>(FakeKernel.LinkDumpRequest(), "list links", FakeKernel.ReadName));

        var (_, sequence) = kernel.ReceiveRequest();
        kernel.Send(FakeKernel.Link(sequence, "a"), FakeKernel.Done(sequence, error: -90));
        var e = await Assert.ThrowsAsync<NetlinkException>(() => dump.WaitAsync(Timeout));

        Assert.Equal(90, e.Errno);
    }

    [Fact]
    public async Task A_datagram_larger_than_the_receive_buffer_is_read_whole()
    {
        using var kernel = FakeKernel.Create();
        var dump = Task.Run(() => kernel.Client.Dump<string>(FakeKernel.LinkDumpRequest(), "list links", FakeKernel.ReadName));

        var (_, sequence) = kernel.ReceiveRequest();
        // ~100 KiB in one datagram, beyond the socket's initial 64 KiB buffer.
        var parts = Enumerable.Range(0, 3000).Select(i => FakeKernel.Link(sequence, $"l{i}")).ToArray();
        kernel.Send([.. parts, FakeKernel.Done(sequence)]);

        var names = await dump.WaitAsync(Timeout);
        Assert.Equal(3000, names.Count);
        Assert.Equal("l2999", names[^1]);
    }
}
