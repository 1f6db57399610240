namespace FastCgi.Tool;

/// <summary>Help texts shared by several commands.</summary>
internal static class Help
{
    public const string Address = "The application: HOST:PORT, [::1]:PORT, unix:/PATH, or a command line (program and arguments, "
        + "split on spaces) that fcgi starts itself with a listening Unix socket on file descriptor 0, as spawn-fcgi does.";
}
