namespace Flannel.Backends.Interfaces;

internal sealed class InterfaceSelectionException : Exception
{
    public InterfaceSelectionException(string message) : base(message) { }
    public InterfaceSelectionException() { }
    public InterfaceSelectionException(string message, Exception inner) : base(message, inner) { }
}
