using Microsoft.AspNetCore.Http;

namespace FastCgi.AspNetCore;

/// <summary>Helpers for an application, or one endpoint, that answers FastCGI Authorizer requests (spec 6.3).</summary>
public static class FastCgiAuthorizerExtensions
{
    /// <summary>The prefix of a response header an authorizer passes on to the web server as a variable (spec 6.3).</summary>
    public const string VariablePrefix = "Variable-";

    /// <summary>Whether the request is a FastCGI Authorizer request.</summary>
    public static bool IsFastCgiAuthorizer(this HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Features.Get<IFastCgiFeature>()?.Role == Role.Authorizer;
    }

    /// <summary>
    /// Adds a <c>Variable-<paramref name="name"/></c> header: on a 200 answer the web server adds
    /// <paramref name="name"/> to the environment of the request it then serves (spec 6.3).
    /// </summary>
    /// <exception cref="ArgumentException">The name is empty or holds a character other than a letter, digit or underscore.</exception>
    public static void SetAuthorizerVariable(this HttpResponse response, string name, string value)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(value);
        if (!name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
        {
            throw new ArgumentException("A variable name is letters, digits and underscores (a CGI variable).", nameof(name));
        }

        response.Headers[VariablePrefix + name] = value;
    }
}
