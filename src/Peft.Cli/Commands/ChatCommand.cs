using System.CommandLine;
using Microsoft.Extensions.AI;
using Peft.Extensions.AI;
using Peft.Tokenizers;
using Peft.Tokenizers.ChatTemplates;
using Peft.Transformers.Loading;
using Peft.Transformers.Models;

namespace Peft.Cli.Commands;

/// <summary>
/// <c>peft chat</c>: an interactive conversation with a model and its adapters through
/// <see cref="PeftChatClient"/> (the model's chat template, or the plain fallback for models without
/// one), each answer streamed as it decodes. <c>/reset</c> starts over (keeping the system text),
/// <c>/exit</c> or the end of input quits. A turn the template refuses (its raise_exception) is
/// reported and dropped, and the conversation goes on.
/// </summary>
internal sealed class ChatCommand : CliCommand
{
    private readonly Option<string> _model = CliOptions.Model();
    private readonly Option<string[]> _adapters = CliOptions.Adapters();
    private readonly Option<string> _quantize = CliOptions.Quantize();
    private readonly Option<string> _system = new("--system") { Description = "system text that opens the conversation", HelpName = "TEXT" };
    private readonly Option<int> _maxNewTokens = CliOptions.Int("--max-new-tokens", "new tokens per answer at most", 256);
    private readonly Option<float> _temperature = CliOptions.Float("--temperature", "sample with this temperature (> 0; default greedy)", 1f, float.Epsilon);
    private readonly Option<int?> _topK = CliOptions.OptionalInt("--top-k", "sample from the k most likely tokens");
    private readonly Option<float> _topP = CliOptions.Float("--top-p", "sample from the smallest set of tokens reaching probability p, in (0, 1]", 1f, float.Epsilon);
    private readonly Option<long> _seed = new("--seed") { Description = "seed of the sampler", HelpName = "N" };

    public override string Name => "chat";

    public override string Description => "Chat with a model (and adapters) using its chat template; /reset starts over, /exit quits.";

    public override string Example => "peft chat --model ./qwen2.5-0.5b-instruct --adapter ./my-lora --system \"You are concise.\"";

    public override int Order => 25;

    protected override void Define(Command command)
    {
        foreach (var option in new Option[] { _model, _adapters, _system, _maxNewTokens, _temperature, _topK, _topP, _seed, _quantize })
            command.Options.Add(option);
    }

    protected override int Execute(ParseResult result, CliContext context)
    {
        string folder = Required(result, _model);
        var loaded = LoadedModel.Load(Name, folder, result.GetValue(_adapters) ?? [],
            new LoadOptions { Quantization = CliOptions.Format(result.GetValue(_quantize)) }, context.Error);
        if (loaded.Model.TaskType != ModelTask.CausalLM)
            throw new UsageException($"{Name}: --model {folder} is {loaded.Model.TaskType}; chat needs a decoder-only language model.");
        if (!File.Exists(Path.Combine(folder, Tokenizer.FileName))) throw new UsageException($"{Name}: --model {folder} has no {Tokenizer.FileName}.");
        TokenizerChatTemplates? templates;
        try
        {
            templates = TokenizerChatTemplates.Load(folder);
        }
        catch (ChatTemplateSyntaxException ex)
        {
            throw new UsageException($"{Name}: the chat template of {folder} is not valid Jinja (line {ex.Line}, column {ex.Column}): {ex.Message}");
        }
        using var client = new PeftChatClient(loaded.Model, Tokenizer.Load(folder), templates, new PeftChatClientOptions
        {
            ModelId = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder))),
        });
        bool sample = Given(result, _temperature) || Given(result, _topK) || Given(result, _topP);
        var options = new ChatOptions
        {
            MaxOutputTokens = result.GetValue(_maxNewTokens),
            Temperature = sample ? result.GetValue(_temperature) : null,
            TopK = result.GetValue(_topK),
            TopP = Given(result, _topP) ? result.GetValue(_topP) : null,
            Seed = result.GetValue(_seed),
        };
        string? system = result.GetValue(_system);
        context.Error.WriteLine($"peft chat: {client.Metadata.DefaultModelId} ({(templates is null ? "no chat template: plain \"role: content\" lines" : "its chat template")}); " +
            "/reset starts over, /exit quits.");

        var history = Fresh(system);
        var input = context.In ?? TextReader.Null;
        while (true)
        {
            if (context.Interactive) context.Out.Write("> ");
            string? line = input.ReadLine();
            if (line is null || line.Trim() == "/exit") return 0;
            if (line.Trim() == "/reset")
            {
                history = Fresh(system);
                context.Error.WriteLine("peft chat: conversation cleared.");
                continue;
            }
            if (line.Trim().Length == 0) continue;
            history.Add(new ChatMessage(ChatRole.User, line));
            try
            {
                var updates = new List<ChatResponseUpdate>();
                foreach (var update in Stream(client, history, options, context.Cancellation))
                {
                    context.Out.Write(update.Text);
                    context.Out.Flush();
                    updates.Add(update);
                }
                context.Out.WriteLine();
                history.AddMessages(updates);
            }
            catch (ChatTemplateException ex)
            {
                history.RemoveAt(history.Count - 1);
                context.Error.WriteLine($"peft chat: the chat template refused this turn: {ex.Message}");
            }
        }
    }

    private static List<ChatMessage> Fresh(string? system) => system is null ? [] : [new ChatMessage(ChatRole.System, system)];

    /// <summary>The streamed answer, consumed synchronously (the command line has no other work to do meanwhile).</summary>
    private static IEnumerable<ChatResponseUpdate> Stream(IChatClient client, List<ChatMessage> history, ChatOptions options, CancellationToken cancel)
    {
        var updates = client.GetStreamingResponseAsync(history, options, cancel).GetAsyncEnumerator(cancel);
        try
        {
            while (updates.MoveNextAsync().AsTask().GetAwaiter().GetResult()) yield return updates.Current;
        }
        finally
        {
            updates.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }
}
