using Flannel.Backends.Interop;
using Flannel.Backends.Tun;
using LibC = Tmds.Linux.LibC;

namespace Flannel.Backends.Udp;

/// <summary>
/// The udp backend's data plane: one TUN-to-wire thread per TUN queue and one wire-to-TUN thread, all dedicated
/// threads blocked in poll(2), stopped through an eventfd. The peer table is swapped atomically by the control plane.
/// </summary>
public sealed class UdpPump : IDisposable
{
    private readonly TunDevice _tun;
    private readonly SafeFdHandle _socket;
    private readonly SafeFdHandle _stop;
    private readonly TunToWire[] _outbound;
    private readonly WireToTun _inbound;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private PeerTable _peers = PeerTable.Empty;
    private int _running;

    public UdpPump(TunDevice tun, Subnet.Ip.Ip4Address bindAddress, ushort port)
    {
        _tun = tun;
        _socket = UdpSocket.Open(bindAddress, port, out bool gro);
        Gro = gro;
        _stop = new SafeFdHandle(LinuxException.ThrowIfFailed(LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK), "eventfd"));
        _outbound = new TunToWire[tun.QueueCount];
        for (int q = 0; q < _outbound.Length; q++)
        {
            // UDP GSO pairs with TSO reads: only then are there runs of segments to send at once.
            _outbound[q] = new TunToWire(port, tun.VnetHeader, gso: tun.Tso);
        }
        _inbound = new WireToTun(tun.VnetHeader);
    }

    /// <summary>UDP GRO is on for the socket.</summary>
    public bool Gro { get; }

    public PeerTable Peers
    {
        get => Volatile.Read(ref _peers);
        set => Volatile.Write(ref _peers, value);
    }

    /// <summary>The source of ICMP errors written back into the TUN (the lease's network address).</summary>
    public Subnet.Ip.Ip4Address TunAddress
    {
        set
        {
            foreach (var o in _outbound)
            {
                o.TunAddress = value.Value;
            }
        }
    }

    /// <summary>Per-thread counters: TUN-to-wire queues first, then wire-to-TUN.</summary>
    public IReadOnlyList<PumpCounters> OutboundCounters => [.. _outbound.Select(o => o.Counters)];

    public PumpCounters InboundCounters => _inbound.Counters;

    /// <summary>Completes when every pump thread has ended; faults when one failed.</summary>
    public Task Stopped => _stopped.Task;

    /// <summary>Starts the threads (once).</summary>
    public void Start()
    {
        if (Interlocked.Exchange(ref _running, 1) != 0)
        {
            return;
        }
        BackendMetrics.Register(this);
        int remaining = _outbound.Length + 1;
        void Body(string name, Action run)
        {
            var thread = new Thread(() =>
            {
                try
                {
                    run();
                    if (Interlocked.Decrement(ref remaining) == 0)
                    {
                        _stopped.TrySetResult();
                    }
                }
                catch (Exception e)
                {
                    _stopped.TrySetException(e);
                }
            })
            {
                IsBackground = true,
                Name = name,
            };
            thread.Start();
        }
        for (int q = 0; q < _outbound.Length; q++)
        {
            var queue = _tun.Queue(q);
            var pump = _outbound[q];
            Body($"udp tun->wire {q}", () => pump.Run(queue, _socket, _stop, () => Peers));
        }
        Body("udp wire->tun", () => _inbound.Run(_socket, _tun.Queue(0), _stop, () => Peers));
    }

    /// <summary>Signals the threads to stop and waits for them (a blocked send ends when its buffer drains).</summary>
    public async Task StopAsync()
    {
        if (Volatile.Read(ref _running) == 0)
        {
            return;
        }
        SignalStop();
        await _stopped.Task.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
    }

    private unsafe void SignalStop()
    {
        ulong one = 1;
        using var fd = _stop.Borrow();
        _ = LibC.write(fd.Value, &one, sizeof(ulong));
    }

    public void Dispose()
    {
        BackendMetrics.Unregister(this);
        if (Volatile.Read(ref _running) != 0 && !_stopped.Task.IsCompleted)
        {
            // Threads still use the buffers: leave them to the finaliser-free process exit rather than free under them.
            return;
        }
        foreach (var o in _outbound)
        {
            o.Dispose();
        }
        _inbound.Dispose();
        _socket.Dispose();
        _stop.Dispose();
    }
}
