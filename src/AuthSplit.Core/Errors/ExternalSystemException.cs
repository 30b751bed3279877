namespace AuthSplit.Core.Errors;

/// <summary>
/// An outside system (directory server, Graph) failed or could not be reached. The message names the
/// server and says what to check; it never contains a credential. The CLI maps it to exit code 4.
/// </summary>
public sealed class ExternalSystemException : Exception
{
    public ExternalSystemException(string system, string message, Exception? innerException = null)
        : base($"{system}: {message}", innerException)
    {
        System = system;
    }

    public ExternalSystemException()
        : this("external system", "failed")
    {
    }

    public ExternalSystemException(string message)
        : this("external system", message)
    {
    }

    public ExternalSystemException(string message, Exception innerException)
        : this("external system", message, innerException)
    {
    }

    /// <summary>The server or service, e.g. <c>ldaps://127.0.0.1:6360</c>.</summary>
    public string System { get; }
}
