using FastCgi.Fuzz.Harnesses;
using SharpFuzz;

// FastCgi.Fuzz TARGET            under afl-fuzz: SharpFuzz's persistent loop over the inputs AFL sends.
// FastCgi.Fuzz TARGET FILE...    runs the files through the harness once each (reproducing a finding).
if (args.Length == 0 || !FuzzTargets.IsTarget(args[0]))
{
    Console.Error.WriteLine("usage: FastCgi.Fuzz TARGET [FILE...]; targets: " + string.Join(", ", FuzzTargets.Names));
    return 2;
}

var target = args[0];
if (args.Length > 1)
{
    var failed = 0;
    foreach (var file in args.Skip(1))
    {
        try
        {
            FuzzTargets.Run(target, File.ReadAllBytes(file));
            Console.WriteLine("ok    " + file);
        }
#pragma warning disable CA1031 // Reproduction reports every escaping exception, whatever its type: each one is a finding.
        catch (Exception e)
#pragma warning restore CA1031
        {
            failed++;
            Console.WriteLine("CRASH " + file);
            Console.WriteLine(e);
        }
    }

    return failed == 0 ? 0 : 1;
}

Fuzzer.Run(stream =>
{
    using var copy = new MemoryStream();
    stream.CopyTo(copy);
    FuzzTargets.Run(target, copy.ToArray());
});
return 0;
