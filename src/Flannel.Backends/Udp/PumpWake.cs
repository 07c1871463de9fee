namespace Flannel.Backends.Udp;

/// <summary>What one wait of a pump thread saw.</summary>
internal enum PumpWake
{
    /// <summary>The descriptor has data.</summary>
    Readable,

    /// <summary>The stop event fired.</summary>
    Stop,

    /// <summary>
    /// POLLERR, POLLHUP or POLLNVAL on the descriptor. For a TUN queue it means the device is gone: once
    /// <c>ip link del</c> detaches the queue, tun_chr_poll() reports EPOLLERR for good and every read fails with
    /// EBADFD, so waiting again would return at once, forever (the spin issue 14 measured at two whole cores).
    /// </summary>
    Error,
}
