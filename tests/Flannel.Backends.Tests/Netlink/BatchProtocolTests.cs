using Flannel.Backends.Vxlan;
using System.Buffers.Binary;
using System.Net.NetworkInformation;
using Flannel.Backends.Interop;
using Flannel.Backends.Netlink;
using Flannel.Subnet.Ip;
using Tmds.Linux;
using static Flannel.Backends.Interop.LinuxNetlink;
using static Flannel.Backends.Interop.LinuxRtnetlink;

namespace Flannel.Backends.Tests.Netlink;

/// <summary><see cref="RtnetlinkSocket.Batch"/> against a scripted kernel: packing, sequence numbers, scattered acks.</summary>
[Unit]
public class BatchProtocolTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Packs_64_requests_a_datagram_and_matches_acks_arriving_in_any_order_and_split()
    {
        using var pair = Pair.Create();
        var requests = Enumerable.Range(0, 100)
            .Select(n => NetlinkRequest.ReplaceNeighbour(3, new Ip4Address(0x0A05_0000u + ((uint)n << 8)), PhysicalAddress.Parse("02-42-0A-05-00-01")))
            .ToList();
        var batch = Task.Run(() => pair.Client.Batch(requests));

        var first = pair.ReceiveDatagram();
        Assert.Equal(RtnetlinkSocket.MaxBatchMessages, first.Count);
        Assert.All(first, m => Assert.Equal((RTM_NEWNEIGH, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE), (m.Type, m.Flags)));
        Assert.Equal(first.Count, first.Select(m => m.Sequence).Distinct().Count());
        // Nothing more is sent until every ack of the first datagram is in.
        Assert.False(pair.HasDatagram(200));
        // A stale ack of another request, then the acks backwards over several datagrams; #5 failed.
        pair.Send(FakeKernel.Ack(first[0].Sequence - 1, -17));
        var reversed = first.AsEnumerable().Reverse().ToList();
        pair.Send([.. reversed.Take(30).Select(m => FakeKernel.Ack(m.Sequence, m == first[5] ? -22 : 0, m == first[5] ? "Invalid lladdr" : null))]);
        pair.Send([.. reversed.Skip(30).Take(1).Select(m => FakeKernel.Ack(m.Sequence))]);
        pair.Send([.. reversed.Skip(31).Select(m => FakeKernel.Ack(m.Sequence, m == first[5] ? -22 : 0, m == first[5] ? "Invalid lladdr" : null))]);
        var second = pair.ReceiveDatagram();
        Assert.Equal(36, second.Count);
        Assert.Equal(first[^1].Sequence + 1, second[0].Sequence);
        pair.Send([.. second.Select(m => FakeKernel.Ack(m.Sequence, m == second[^1] ? -19 : 0))]);

        var results = await batch.WaitAsync(Timeout);

        Assert.Equal(100, results.Length);
        Assert.Equal(22, results[5]!.Errno);
        Assert.Equal("Invalid lladdr", results[5]!.KernelMessage);
        Assert.Equal("replace neighbour 10.5.5.0 lladdr 02:42:0a:05:00:01 dev #3 failed: Invalid argument (errno 22): Invalid lladdr", results[5]!.Message);
        Assert.Equal(19, results[99]!.Errno);
        Assert.Equal(98, results.Count(r => r is null));
        // The requests themselves were not changed: the flags and sequence live only in the sent copy.
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(requests[0].Message.Span[8..]));
    }

    [Fact]
    public void The_factories_build_the_messages_of_the_single_requests()
    {
        var mac = PhysicalAddress.Parse("86-23-78-A5-D8-BE");
        var peer = Ip4Address.Parse("198.51.100.2");
        var net = Ip4Address.Parse("10.5.2.0");
        var route = Route.Via(new Ip4Network(net, 24), net, 4, onLink: true);

        Assert.Equal(RtnetlinkRequests.Fdb(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, 4, mac, peer).Message.ToArray(), NetlinkRequest.ReplaceFdb(4, mac, peer).Message.ToArray());
        Assert.Equal(RtnetlinkRequests.Route(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, route).Message.ToArray(), NetlinkRequest.ReplaceRoute(route).Message.ToArray());
        Assert.Equal(RtnetlinkRequests.Route(RTM_DELROUTE, 0, route).Message.ToArray(), NetlinkRequest.DeleteRoute(route).Message.ToArray());
        Assert.Equal("replace fdb 86:23:78:a5:d8:be dst 198.51.100.2 dev #4", NetlinkRequest.ReplaceFdb(4, mac, peer).Operation);
        Assert.Throws<ArgumentOutOfRangeException>(() => NetlinkRequest.DeleteNeighbour(0, net));
        Assert.Throws<ArgumentNullException>(() => NetlinkRequest.ReplaceNeighbour(4, net, null!));
    }

    [Fact]
    public void Fdb_and_neighbour_messages_carry_the_fields_flannel_sends()
    {
        var mac = PhysicalAddress.Parse("86-23-78-A5-D8-BE");
        var fdb = RtnetlinkRequests.Fdb(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, 4, mac, Ip4Address.Parse("198.51.100.2")).Message.ToArray();
        var arp = RtnetlinkRequests.Neighbour(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, 4, Ip4Address.Parse("10.5.2.0"), mac).Message.ToArray();

        // ndmsg: family, pad, pad16, ifindex, state, flags, type.
        Assert.Equal(new byte[] { 7, 0, 0, 0, 4, 0, 0, 0, 0x80, 0, 0x02, 0 }, fdb[16..28]);
        Assert.Equal(new byte[] { 2, 0, 0, 0, 4, 0, 0, 0, 0x80, 0, 0, 1 }, arp[16..28]);
        // NDA_LLADDR (10 bytes, padded) then NDA_DST for the fdb entry; NDA_DST then NDA_LLADDR for ARP.
        Assert.Equal(new byte[] { 10, 0, 2, 0, 0x86, 0x23, 0x78, 0xa5, 0xd8, 0xbe, 0, 0, 8, 0, 1, 0, 198, 51, 100, 2 }, fdb[28..]);
        Assert.Equal(new byte[] { 8, 0, 1, 0, 10, 5, 2, 0, 10, 0, 2, 0, 0x86, 0x23, 0x78, 0xa5, 0xd8, 0xbe, 0, 0 }, arp[28..]);
    }

    [Fact]
    public void A_vxlan_request_leaves_out_port_mtu_and_gbp_when_zero()
    {
        var spec = new VxlanSpec("flannel.1", 1, Ip4Address.Parse("198.51.100.1"), 2, 0, false, false, 0);
        var withAll = spec with { Port = 4789, Gbp = true, Mtu = 1400, Mac = PhysicalAddress.Parse("02-00-00-00-00-01") };

        Assert.Equal([(IFLA_VXLAN_ID, 4), (IFLA_VXLAN_LOCAL, 4), (IFLA_VXLAN_LINK, 4), (IFLA_VXLAN_LEARNING, 1)], VxlanData(spec));
        Assert.Equal(
            [(IFLA_VXLAN_ID, 4), (IFLA_VXLAN_LOCAL, 4), (IFLA_VXLAN_LINK, 4), (IFLA_VXLAN_PORT, 2), (IFLA_VXLAN_LEARNING, 1), (IFLA_VXLAN_GBP, 0)],
            VxlanData(withAll));
        var port = RtnetlinkRequests.CreateVxlan(withAll).Message.ToArray();
        Assert.True(port.AsSpan().IndexOf(new byte[] { 6, 0, 15, 0, 0x12, 0xb5 }) > 0, "port 4789 in network order");
    }

    private static List<(ushort Type, int Length)> VxlanData(VxlanSpec spec)
    {
        var message = RtnetlinkRequests.CreateVxlan(spec).Message.ToArray();
        var found = new List<(ushort, int)>();
        foreach (var m in new NetlinkMessageReader(message))
        {
            foreach (var attribute in m.Attributes<ifinfomsg>())
            {
                if (attribute.Type != IFLA_LINKINFO)
                {
                    continue;
                }
                Assert.True(attribute.IsNested);
                foreach (var info in attribute.Nested)
                {
                    if (info.Type == IFLA_INFO_DATA)
                    {
                        Assert.True(info.IsNested);
                        foreach (var data in info.Nested)
                        {
                            found.Add((data.Type, data.Value.Length));
                        }
                    }
                }
            }
        }
        return found;
    }

    /// <summary>A socketpair with the client end in an <see cref="RtnetlinkSocket"/>; the test plays the kernel.</summary>
    private sealed unsafe class Pair : IDisposable
    {
        private readonly SafeFdHandle _kernelEnd;

        private Pair(SafeFdHandle client, SafeFdHandle kernelEnd)
        {
            Client = new RtnetlinkSocket(client);
            _kernelEnd = kernelEnd;
        }

        public RtnetlinkSocket Client { get; }

        public static Pair Create()
        {
            int* fds = stackalloc int[2];
            Assert.Equal(0, LibC.socketpair(LibC.AF_UNIX, LibC.SOCK_DGRAM | LibC.SOCK_CLOEXEC, 0, fds));
            return new Pair(new SafeFdHandle(fds[0]), new SafeFdHandle(fds[1]));
        }

        public bool HasDatagram(int milliseconds)
        {
            using var fd = _kernelEnd.Borrow();
            var poll = new pollfd { fd = fd.Value, events = LibC.POLLIN };
            return LibC.poll(&poll, 1, milliseconds) == 1;
        }

        /// <summary>Every message of the next datagram the client sent.</summary>
        public List<(ushort Type, ushort Flags, uint Sequence)> ReceiveDatagram()
        {
            Assert.True(HasDatagram(10_000), "the client sent nothing in 10 s");
            byte[] buffer = new byte[65536];
            long length;
            using (var fd = _kernelEnd.Borrow())
            {
                fixed (byte* bytes = buffer)
                {
                    length = LibC.recv(fd.Value, bytes, buffer.Length, 0);
                }
            }
            var messages = new List<(ushort, ushort, uint)>();
            foreach (var m in new NetlinkMessageReader(buffer.AsSpan(0, (int)length)))
            {
                messages.Add((m.Type, m.Flags, m.Header.nlmsg_seq));
            }
            return messages;
        }

        public void Send(params byte[][] messages)
        {
            byte[] datagram = [.. messages.SelectMany(m => m)];
            using var fd = _kernelEnd.Borrow();
            fixed (byte* bytes = datagram)
            {
                Assert.Equal(datagram.Length, LibC.send(fd.Value, bytes, datagram.Length, 0));
            }
        }

        public void Dispose()
        {
            Client.Dispose();
            _kernelEnd.Dispose();
        }
    }
}
