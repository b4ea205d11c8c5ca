namespace Peft.Tokenizers.ChatTemplates;

/// <summary>Anything a template can call: globals, macros, bound methods of strings, dicts and lists.</summary>
internal interface ICallable
{
    string Name { get; }

    object? Call(CallArguments arguments);
}
