// The tests start real Linux processes and sockets.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
