using FastCgi;

namespace Echo;

/// <summary>The Authorizer: <c>Bearer letmein</c> is alice; anyone else is forbidden.</summary>
internal sealed class EchoAuthorizer : Handler
{
    public override void Process(Request request)
    {
        if (request.RequestHeaders.GetValueOrDefault("Authorization") == "Bearer letmein")
        {
            // FastCGI spec 6.3: 200 grants access; Variable-* headers become variables for later handlers.
            request.SetStatus(200);
            request.DeleteHeader("Content-Type");
            request.SetHeader("Variable-AUTH_USER", "alice");
            return;
        }

        request.SetStatus(403);
        request.SetHeader("Content-Type", "text/plain");
        request.Write("forbidden\n");
    }
}
