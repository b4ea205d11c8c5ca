// peft: command-line access to the engine (see PeftCommand for the exit codes).
return Peft.Cli.PeftCommand.Run(args, Console.Out, Console.Error);
