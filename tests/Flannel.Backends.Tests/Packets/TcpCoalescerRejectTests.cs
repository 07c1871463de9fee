using Flannel.Backends.Packets;

namespace Flannel.Backends.Tests.Packets;

/// <summary>
/// What must not be merged: anything that would change what the receiving TCP sees (reordering, flags, ACKs, options,
/// IP fields) and any segment whose checksum is wrong, since the kernel trusts a NEEDS_CSUM packet's payload.
/// </summary>
public class TcpCoalescerRejectTests
{
    private static readonly uint Source = CoalescerFlow.Source;
    private static readonly uint Destination = CoalescerFlow.Destination;

    private static TcpCoalescer OpenWith(byte[] head)
    {
        var gro = new TcpCoalescer();
        Assert.True(gro.TryOpen(head));
        return gro;
    }

    [Fact]
    public void Sequence_gap()
    {
        var flow = new CoalescerFlow();
        using var gro = OpenWith(flow.Next(1000));
        flow.Seq += 1;
        Assert.False(gro.TryAppend(flow.Next(1000)));
    }

    [Fact]
    public void Retransmission_of_the_same_sequence()
    {
        var flow = new CoalescerFlow();
        var a = flow.Next(1000);
        using var gro = OpenWith(a);
        Assert.False(gro.TryAppend(a));
    }

    [Fact]
    public void Different_ACK_number()
    {
        var flow = new CoalescerFlow();
        using var gro = OpenWith(flow.Next(1000));
        flow.AckNumber++;
        Assert.False(gro.TryAppend(flow.Next(1000)));
    }

    [Theory]
    [InlineData(TestPacket.Syn)]
    [InlineData(TestPacket.Syn | TestPacket.Ack)]
    [InlineData(TestPacket.Fin | TestPacket.Ack)]
    [InlineData(0x04 | TestPacket.Ack)] // RST
    [InlineData(0x20 | TestPacket.Ack)] // URG
    [InlineData(0x40 | TestPacket.Ack)] // ECE
    [InlineData(0)]
    public void Flags_other_than_ACK_or_ACK_PSH_neither_open_nor_append(byte flags)
    {
        var flow = new CoalescerFlow();
        using var gro = OpenWith(flow.Next(1000));
        var odd = flow.Next(1000, flags);
        Assert.False(gro.TryAppend(odd));
        using var other = new TcpCoalescer();
        Assert.False(other.TryOpen(odd));
    }

    [Fact]
    public void Bad_checksum_on_the_appended_segment()
    {
        var flow = new CoalescerFlow();
        using var gro = OpenWith(flow.Next(1000));
        var b = flow.Next(1000);
        b[^1] ^= 0x55;
        Assert.False(gro.TryAppend(b));
    }

    [Fact]
    public void Bad_checksum_on_the_head_stops_any_merge()
    {
        var flow = new CoalescerFlow();
        var a = flow.Next(1000);
        a[^1] ^= 0x55;
        using var gro = OpenWith(a); // opened unverified: a lone packet goes to the kernel, which checks it
        Assert.False(gro.TryAppend(flow.Next(1000)));
        Assert.Equal(a, gro.Take()[10..].ToArray());
    }

    [Fact]
    public void Different_TTL()
    {
        var flow = new CoalescerFlow();
        using var gro = OpenWith(flow.Next(1000, ttl: 63));
        Assert.False(gro.TryAppend(flow.Next(1000, ttl: 62)));
    }

    [Fact]
    public void Different_TOS()
    {
        var flow = new CoalescerFlow();
        using var gro = OpenWith(flow.Next(1000));
        var b = flow.Next(1000);
        b[1] = 0x10;
        TestPacket.FixIpChecksum(b);
        Assert.False(gro.TryAppend(b));
    }

    [Fact]
    public void Different_DF()
    {
        var flow = new CoalescerFlow();
        using var gro = OpenWith(flow.Next(1000));
        var b = flow.Next(1000);
        b[6] = 0;
        TestPacket.FixIpChecksum(b);
        Assert.False(gro.TryAppend(b));
    }

    [Fact]
    public void Different_TCP_options()
    {
        var flow = new CoalescerFlow();
        using var gro = OpenWith(flow.Next(1000));
        var b = flow.Next(1000);
        b[CoalescerFlow.Ipl + 27] ^= 1; // TSval
        TestPacket.FixL4Checksum(b);
        Assert.False(gro.TryAppend(b));
    }

    [Fact]
    public void Different_ports_or_addresses()
    {
        var flow = new CoalescerFlow();
        var a = flow.Next(1000);
        using var gro = OpenWith(a);
        uint seq = flow.Seq;
        Assert.False(gro.TryAppend(TestPacket.Tcp(Source, Destination, seq, flow.AckNumber, TestPacket.Ack, new byte[1000], 63, sourcePort: 40001)));
        Assert.False(gro.TryAppend(TestPacket.Tcp(Source, Destination, seq, flow.AckNumber, TestPacket.Ack, new byte[1000], 63, destinationPort: 5202)));
        Assert.False(gro.TryAppend(TestPacket.Tcp(Source + 1, Destination, seq, flow.AckNumber, TestPacket.Ack, new byte[1000], 63)));
        Assert.False(gro.TryAppend(TestPacket.Tcp(Source, Destination + 1, seq, flow.AckNumber, TestPacket.Ack, new byte[1000], 63)));
        Assert.True(gro.TryAppend(TestPacket.Tcp(Source, Destination, seq, flow.AckNumber, TestPacket.Ack, new byte[1000], 63)));
    }

    [Fact]
    public void Different_TCP_header_length()
    {
        var flow = new CoalescerFlow();
        using var gro = OpenWith(flow.Next(1000));
        Assert.False(gro.TryAppend(TestPacket.Tcp(Source, Destination, flow.Seq, flow.AckNumber, TestPacket.Ack, new byte[1000], 63, tcpLength: 20)));
    }

    [Fact]
    public void Nothing_after_a_PSH_head()
    {
        var flow = new CoalescerFlow();
        using var gro = OpenWith(flow.Next(1000, TestPacket.Psh | TestPacket.Ack));
        Assert.False(gro.TryAppend(flow.Next(1000)));
    }

    [Fact]
    public void Nothing_after_an_appended_PSH_segment()
    {
        var flow = new CoalescerFlow();
        using var gro = OpenWith(flow.Next(1000));
        Assert.True(gro.TryAppend(flow.Next(1000, TestPacket.Psh | TestPacket.Ack)));
        Assert.False(gro.TryAppend(flow.Next(1000)));
    }

    [Fact]
    public void Nothing_after_a_short_segment()
    {
        var flow = new CoalescerFlow();
        using var gro = OpenWith(flow.Next(1000));
        Assert.True(gro.TryAppend(flow.Next(500)));
        Assert.False(gro.TryAppend(flow.Next(500)));
    }

    [Fact]
    public void Payload_bigger_than_the_first_segment()
    {
        var flow = new CoalescerFlow();
        using var gro = OpenWith(flow.Next(500));
        Assert.False(gro.TryAppend(flow.Next(1000)));
    }

    [Fact]
    public void Pure_ACK_without_payload_is_no_candidate()
    {
        var flow = new CoalescerFlow();
        using var gro = new TcpCoalescer();
        Assert.False(gro.TryOpen(flow.Next(0)));
        Assert.True(gro.TryOpen(flow.Next(1000)));
        Assert.False(gro.TryAppend(flow.Next(0)));
    }

    [Fact]
    public void Fragments_IP_options_and_non_TCP_are_no_candidates()
    {
        var flow = new CoalescerFlow();
        using var gro = new TcpCoalescer();
        var mf = flow.Next(1000);
        mf[6] |= 0x20;
        TestPacket.FixIpChecksum(mf);
        Assert.False(gro.TryOpen(mf));
        var withOptions = TestPacket.Ipv4(6, Source, Destination, flow.Next(1000).AsSpan(20), optionBytes: 4);
        Assert.False(gro.TryOpen(withOptions));
        Assert.False(gro.TryOpen(TestPacket.Udp(Source, Destination, 1, 2, new byte[1000])));
    }

    [Fact]
    public void Total_length_not_matching_the_datagram_is_no_candidate()
    {
        var flow = new CoalescerFlow();
        using var gro = new TcpCoalescer();
        var padded = new byte[1100];
        flow.Next(1000).CopyTo(padded, 0);
        Assert.False(gro.TryOpen(padded));
    }
}
