namespace Flannel.Daemon;
