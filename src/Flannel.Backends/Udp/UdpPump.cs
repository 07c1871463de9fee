using System.Runtime.InteropServices;
using Flannel.Backends.Interop;
using Flannel.Backends.Tun;
using LibC = Tmds.Linux.LibC;

namespace Flannel.Backends.Udp;

/// <summary>
/// The udp backend's data plane: one TUN-to-wire thread per TUN queue and one wire-to-TUN thread, all dedicated
/// threads blocked in poll(2), stopped through an eventfd. The peer table is swapped atomically by the control plane.
/// </summary>
/// <remarks>
/// The pump outlives its devices: each <see cref="Start"/> runs the threads over one TUN device and one socket until
/// they are stopped or one of them fails (<see cref="PumpExit"/>); the control plane then replaces what failed and
/// starts the same pump again, so the packet buffers, the peer table and the counters (monotonic for /metrics) stay.
/// </remarks>
public sealed class UdpPump : IDisposable
{
    private readonly SafeFdHandle _stop;
    private readonly TunToWire[] _outbound;
    private readonly WireToTun _inbound;
    private PeerTable _peers = PeerTable.Empty;
    private Task<PumpExit> _run = Task.FromResult(PumpExit.Stopped);
    private int _disposed;

    public UdpPump(int queues, bool vnetHeader, bool tso, ushort port)
    {
        VnetHeader = vnetHeader;
        _stop = new SafeFdHandle(LinuxException.ThrowIfFailed(LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK), "eventfd"));
        _outbound = new TunToWire[queues];
        for (int q = 0; q < _outbound.Length; q++)
        {
            // UDP GSO pairs with TSO reads: only then are there runs of segments to send at once.
            _outbound[q] = new TunToWire(port, vnetHeader, gso: tso);
        }
        _inbound = new WireToTun(vnetHeader);
        BackendMetrics.Register(this);
    }

    /// <summary>Whether the buffers expect virtio_net_hdr framing; a device to run over must match.</summary>
    public bool VnetHeader { get; }

    public int QueueCount => _outbound.Length;

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

    /// <summary>The current (or last) run: completes when all its threads have ended, faults when one threw.</summary>
    public Task<PumpExit> Running => Volatile.Read(ref _run);

    /// <summary>What ended the last run other than a stop, for the log (e.g. "read from flannel0: EBADFD").</summary>
    public string? ExitDetail { get; private set; }

    /// <summary>
    /// Starts the threads over <paramref name="tun"/> and <paramref name="socket"/>; the previous run must have ended.
    /// The first thread that ends for a reason other than the stop event stops the others.
    /// </summary>
    internal Task<PumpExit> Start(TunDevice tun, SafeFdHandle socket)
    {
        if (!Running.IsCompleted)
        {
            throw new InvalidOperationException("the pump is already running");
        }
        if (tun.QueueCount != _outbound.Length || tun.VnetHeader != VnetHeader)
        {
            throw new ArgumentException($"{tun.Name} has {tun.QueueCount} queue(s), vnet header {tun.VnetHeader}; the pump was made for {_outbound.Length}, {VnetHeader}", nameof(tun));
        }
        DrainStop();
        ExitDetail = null;
        var done = new TaskCompletionSource<PumpExit>(TaskCreationOptions.RunContinuationsAsynchronously);
        int remaining = _outbound.Length + 1;
        int worst = (int)PumpExit.Stopped;
        Exception? failure = null;
        void Body(string name, Func<PumpExit> run)
        {
            var thread = new Thread(() =>
            {
                try
                {
                    var exit = run();
                    if (exit != PumpExit.Stopped)
                    {
                        InterlockedMax(ref worst, (int)exit);
                        SignalStop();
                    }
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref failure, e, null);
                    SignalStop();
                }
                if (Interlocked.Decrement(ref remaining) == 0)
                {
                    if (failure is not null)
                    {
                        done.TrySetException(failure);
                    }
                    else
                    {
                        done.TrySetResult((PumpExit)Volatile.Read(ref worst));
                    }
                }
            })
            {
                IsBackground = true,
                Name = name,
            };
            thread.Start();
        }
        Volatile.Write(ref _run, done.Task);
        for (int q = 0; q < _outbound.Length; q++)
        {
            var queue = tun.Queue(q);
            var pump = _outbound[q];
            Body($"udp tun->wire {q}", () => pump.Run(queue, socket, _stop, () => Peers, Detail));
        }
        Body("udp wire->tun", () => _inbound.Run(socket, tun.Queue(0), _stop, () => Peers, Detail));
        return done.Task;

        void Detail(string what) => ExitDetail ??= $"{what} on {tun.Name}";
    }

    /// <summary>Signals the threads to stop and waits for them (a blocked send ends when its buffer drains).</summary>
    public async Task StopAsync()
    {
        var run = Running;
        if (run.IsCompleted)
        {
            return;
        }
        SignalStop();
        try
        {
            await run.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not TimeoutException)
        {
            // A thread that failed has been reported through Running by whoever awaits it; stopping is done.
        }
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }

    private unsafe void SignalStop()
    {
        ulong one = 1;
        using var fd = _stop.Borrow();
        _ = LibC.write(fd.Value, &one, sizeof(ulong));
    }

    // An eventfd read returns and zeroes its counter (EAGAIN when it is already zero, the fd being non-blocking).
    private unsafe void DrainStop()
    {
        ulong value;
        using var fd = _stop.Borrow();
        while (LibC.read(fd.Value, &value, sizeof(ulong)) < 0 && Marshal.GetLastPInvokeError() == LibC.EINTR)
        {
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        BackendMetrics.Unregister(this);
        if (!Running.IsCompleted)
        {
            // Threads still use the buffers: leave them to the finaliser-free process exit rather than free under them.
            return;
        }
        foreach (var o in _outbound)
        {
            o.Dispose();
        }
        _inbound.Dispose();
        _stop.Dispose();
    }
}
