// The tests start real Linux processes, sockets and web servers.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
