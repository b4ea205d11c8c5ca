// peft: command-line access to the engine (see PeftCommand for the exit codes).
// The first Ctrl+C asks the running command to stop cleanly (train writes a checkpoint); a second one ends the process.
using Peft.Cli;

using var interrupt = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    if (interrupt.IsCancellationRequested) return;
    e.Cancel = true;
    Console.Error.WriteLine("peft: stopping after the current step (Ctrl+C again to quit at once)...");
    interrupt.Cancel();
};
return PeftCommand.Run(args, new CliContext(Console.Out, Console.Error, interrupt.Token, !Console.IsOutputRedirected, Console.In));
