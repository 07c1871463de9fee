using System.Runtime.InteropServices;
using Flannel.Backends.Udp;

namespace Flannel.Backends.Tests.UdpUnit;

/// <summary>
/// The sendmmsg batch: room accounting (an Add that does not fit takes nothing), UDP_SEGMENT runs capped at 64
/// segments and 65507 bytes, one entry per segment without GSO.
/// </summary>
[Unit]
public sealed unsafe class WireSendBatchTests : IDisposable
{
    private readonly byte* _data = (byte*)NativeMemory.AllocZeroed(1 << 20);
    private const uint Peer = 0xC0A8015E; // 192.168.1.94

    public void Dispose() => NativeMemory.Free(_data);

    [Fact]
    public void Single_packets_fill_the_batch_then_Add_says_no()
    {
        using var batch = new WireSendBatch(4, 8285, gso: true);
        for (int i = 0; i < 4; i++)
        {
            Assert.True(batch.Add(_data + i * 100, 100, 0, Peer + (uint)i));
        }
        Assert.False(batch.Add(_data, 100, 0, Peer));
        Assert.Equal(4, batch.Count);
        Assert.Equal(0, batch.Free);
        Assert.Equal(4, batch.Datagrams);
        for (int i = 0; i < 4; i++)
        {
            var e = batch.Entry(i);
            Assert.Equal((IntPtr)(_data + i * 100), e.Data);
            Assert.Equal(100, e.Length);
            Assert.Equal(0, e.SegmentLength);
            Assert.Equal(Peer + (uint)i, e.Destination);
        }
        batch.Clear();
        Assert.Equal(0, batch.Count);
        Assert.Equal(4, batch.Free);
        Assert.Equal(0, batch.Datagrams);
    }

    [Fact]
    public void Segments_with_GSO_go_as_one_entry()
    {
        using var batch = new WireSendBatch(4, 8285, gso: true);
        Assert.True(batch.Add(_data, 10 * 1452 - 500, 1452, Peer));
        Assert.Equal(1, batch.Count);
        Assert.Equal(10, batch.Datagrams);
        var e = batch.Entry(0);
        Assert.Equal(1452, e.SegmentLength);
        Assert.Equal(10 * 1452 - 500, e.Length);
    }

    [Fact]
    public void Segments_with_GSO_are_capped_at_64_per_entry()
    {
        using var batch = new WireSendBatch(4, 8285, gso: true);
        Assert.True(batch.Add(_data, 130 * 100, 100, Peer));
        Assert.Equal(3, batch.Count);
        Assert.Equal(130, batch.Datagrams);
        Assert.Equal(6400, batch.Entry(0).Length);
        Assert.Equal(6400, batch.Entry(1).Length);
        Assert.Equal(200, batch.Entry(2).Length);
        Assert.Equal(100, batch.Entry(2).SegmentLength);
        Assert.Equal((IntPtr)(_data + 12800), batch.Entry(2).Data);
    }

    [Fact]
    public void A_run_that_leaves_one_segment_sends_it_without_UDP_SEGMENT()
    {
        // 64 segments fill the first entry; the one left over is an ordinary datagram (no UDP_SEGMENT control message).
        using var batch = new WireSendBatch(4, 8285, gso: true);
        Assert.True(batch.Add(_data, 65 * 100, 100, Peer));
        Assert.Equal(2, batch.Count);
        Assert.Equal(0, batch.Entry(1).SegmentLength);
        Assert.Equal(100, batch.Entry(1).Length);
    }

    [Fact]
    public void Segments_without_GSO_take_one_entry_each()
    {
        using var batch = new WireSendBatch(16, 8285, gso: false);
        Assert.False(batch.Gso);
        Assert.True(batch.Add(_data, 10 * 1452 - 500, 1452, Peer));
        Assert.Equal(10, batch.Count);
        Assert.Equal(10, batch.Datagrams);
        for (int i = 0; i < 10; i++)
        {
            var e = batch.Entry(i);
            Assert.Equal(0, e.SegmentLength);
            Assert.Equal(i < 9 ? 1452 : 952, e.Length);
            Assert.Equal((IntPtr)(_data + i * 1452), e.Data);
        }
    }

    [Fact]
    public void A_run_that_does_not_fit_is_refused_whole()
    {
        using var batch = new WireSendBatch(4, 8285, gso: false);
        Assert.True(batch.Add(_data, 100, 0, Peer));
        Assert.False(batch.Add(_data, 4 * 100, 100, Peer));
        Assert.Equal(1, batch.Count);
        Assert.Equal(1, batch.Datagrams);
        Assert.True(batch.Add(_data, 3 * 100, 100, Peer));
        Assert.Equal(4, batch.Count);
    }

    [Fact]
    public void Length_no_longer_than_the_segment_is_a_single_packet()
    {
        using var batch = new WireSendBatch(4, 8285, gso: true);
        Assert.True(batch.Add(_data, 1452, 1452, Peer));
        Assert.Equal(0, batch.Entry(0).SegmentLength);
        Assert.Equal(1, batch.Datagrams);
    }
}
