using Flannel.Backends.Packets;

namespace Flannel.Backends.Tests.Packets;

/// <summary>
/// What must not be merged: anything that would change what the receiving TCP sees (reordering, flags, ACKs, window,
/// options, IP fields) and any segment whose checksums are wrong, since the kernel trusts a NEEDS_CSUM packet's payload.
/// One test per field Linux's GRO compares (inet_gro_receive/inet_gro_flush, tcp_gro_receive).
/// </summary>
[Unit]
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

    /// <summary>The next segment of <paramref name="flow"/> with one change, both checksums made valid again.</summary>
    private static byte[] NextWith(CoalescerFlow flow, Action<byte[]> change)
    {
        var p = flow.Next(1000);
        change(p);
        TestPacket.FixIpChecksum(p);
        TestPacket.FixL4Checksum(p);
        return p;
    }

    /// <summary>
    /// The same change on an otherwise identical segment is accepted when it is undone: proves that the refusal above
    /// is about the field, not about how the test built the packet.
    /// </summary>
    private static void AssertRefusedOnlyForTheChange(Action<byte[]> change)
    {
        var flow = new CoalescerFlow();
        using var gro = OpenWith(flow.Next(1000));
        uint seq = flow.Seq;
        ushort id = flow.Id;
        Assert.False(gro.TryAppend(NextWith(flow, change)));
        flow.Seq = seq;
        flow.Id = id;
        Assert.True(gro.TryAppend(NextWith(flow, _ => { })));
    }

    [Fact]
    public void Different_window()
    {
        // tcp_flag_word covers the window: a window update must reach TCP as it was sent, not hidden in a merge.
        AssertRefusedOnlyForTheChange(p => p[CoalescerFlow.Ipl + 15] ^= 1);
        AssertRefusedOnlyForTheChange(p => p[CoalescerFlow.Ipl + 14] ^= 0x80);
    }

    [Fact]
    public void Different_TCP_reserved_bits()
    {
        AssertRefusedOnlyForTheChange(p => p[CoalescerFlow.Ipl + 12] |= 0x01); // AE (formerly NS)
        AssertRefusedOnlyForTheChange(p => p[CoalescerFlow.Ipl + 12] |= 0x08);
    }

    [Fact]
    public void Different_TSecr_alone()
    {
        AssertRefusedOnlyForTheChange(p => p[CoalescerFlow.Ipl + 31] ^= 1); // timestamps: every option byte counts
    }

    [Fact]
    public void IP_ID_that_skips_one()
    {
        AssertRefusedOnlyForTheChange(p => p[5] += 1);
    }

    [Fact]
    public void IP_ID_that_goes_back()
    {
        AssertRefusedOnlyForTheChange(p => p[5] -= 2);
    }

    [Fact]
    public void Fixed_IP_ID_merges_with_DF_only()
    {
        var flow = new CoalescerFlow();
        using var gro = OpenWith(flow.Next(1000));
        flow.Id--;                                   // the second segment repeats the head's ID
        Assert.True(gro.TryAppend(flow.Next(1000)));
        flow.Id--;
        Assert.True(gro.TryAppend(flow.Next(1000))); // and so must every later one
        Assert.False(gro.TryAppend(flow.Next(1000))); // an incrementing ID no longer fits the item

        var noDf = new CoalescerFlow();
        using var other = OpenWith(NextWith(noDf, p => p[6] = 0));
        uint seq = noDf.Seq;
        noDf.Id--;
        Assert.False(other.TryAppend(NextWith(noDf, p => p[6] = 0)));
        noDf.Seq = seq;
        Assert.True(other.TryAppend(NextWith(noDf, p => p[6] = 0))); // without DF the ID must increment
    }

    [Fact]
    public void Incrementing_IP_ID_cannot_turn_fixed()
    {
        var flow = new CoalescerFlow();
        using var gro = OpenWith(flow.Next(1000));
        Assert.True(gro.TryAppend(flow.Next(1000)));
        uint seq = flow.Seq;
        flow.Id--;
        Assert.False(gro.TryAppend(flow.Next(1000)));
        flow.Seq = seq;
        Assert.True(gro.TryAppend(flow.Next(1000)));
    }

    [Fact]
    public void IP_ID_continues_across_the_16_bit_wrap()
    {
        var flow = new CoalescerFlow { Id = 0xFFFF };
        using var gro = OpenWith(flow.Next(1000));
        Assert.Equal(0, flow.Id);
        Assert.True(gro.TryAppend(flow.Next(1000)));
    }

    [Fact]
    public void Reserved_IP_flag_is_no_candidate()
    {
        var flow = new CoalescerFlow();
        var evil = NextWith(flow, p => p[6] |= 0x80);
        using var gro = new TcpCoalescer();
        Assert.False(gro.TryOpen(evil));
        using var open = OpenWith(new CoalescerFlow().Next(1000));
        var flow2 = new CoalescerFlow();
        _ = flow2.Next(1000);
        Assert.False(open.TryAppend(NextWith(flow2, p => p[6] |= 0x80)));
    }

    [Fact]
    public void Bad_IP_header_checksum_on_the_appended_segment()
    {
        var flow = new CoalescerFlow();
        using var gro = OpenWith(flow.Next(1000));
        var b = flow.Next(1000);
        b[10] ^= 0x01;
        Assert.False(gro.TryAppend(b));
    }

    [Fact]
    public void Bad_IP_header_checksum_on_the_head_stops_any_merge()
    {
        // Take() recomputes the merged header's checksum, so merging would repair a corrupt header the kernel drops.
        var flow = new CoalescerFlow();
        var a = flow.Next(1000);
        a[10] ^= 0x01;
        using var gro = OpenWith(a);
        Assert.False(gro.TryAppend(flow.Next(1000)));
        Assert.Equal(a, gro.Take()[10..].ToArray());
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
    [InlineData(0x80 | TestPacket.Ack)] // CWR: Linux would merge it as a head; never merging is the safe side
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
        AssertRefusedOnlyForTheChange(p => p[8]--);
    }

    [Fact]
    public void Different_TOS()
    {
        AssertRefusedOnlyForTheChange(p => p[1] = 0x10);
        AssertRefusedOnlyForTheChange(p => p[1] |= 0x03); // ECN CE: a congestion mark must not vanish in a merge
    }

    [Fact]
    public void Different_DF()
    {
        AssertRefusedOnlyForTheChange(p => p[6] &= 0xBF);
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
        ushort id = flow.Id;
        Assert.False(gro.TryAppend(TestPacket.Tcp(Source, Destination, seq, flow.AckNumber, TestPacket.Ack, new byte[1000], 63, id, sourcePort: 40001)));
        Assert.False(gro.TryAppend(TestPacket.Tcp(Source, Destination, seq, flow.AckNumber, TestPacket.Ack, new byte[1000], 63, id, destinationPort: 5202)));
        Assert.False(gro.TryAppend(TestPacket.Tcp(Source + 1, Destination, seq, flow.AckNumber, TestPacket.Ack, new byte[1000], 63, id)));
        Assert.False(gro.TryAppend(TestPacket.Tcp(Source, Destination + 1, seq, flow.AckNumber, TestPacket.Ack, new byte[1000], 63, id)));
        Assert.True(gro.TryAppend(TestPacket.Tcp(Source, Destination, seq, flow.AckNumber, TestPacket.Ack, new byte[1000], 63, id)));
    }

    [Fact]
    public void Different_TCP_header_length()
    {
        var flow = new CoalescerFlow();
        using var gro = OpenWith(flow.Next(1000));
        Assert.False(gro.TryAppend(TestPacket.Tcp(Source, Destination, flow.Seq, flow.AckNumber, TestPacket.Ack, new byte[1000], 63, flow.Id, tcpLength: 20)));
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
