// PeftChatClient (Microsoft.Extensions.AI's IChatClient over a Peft.MLNet model and its adapters)
// behind Microsoft.Extensions.AI's ChatClientBuilder pipeline: default options fill what a request
// leaves out, and a middleware times each call.
//
//   dotnet run --project examples/ChatClient -c Release -- [MODEL_DIR [ADAPTER_DIR ...]]
//
// With no folder it uses the main example's embedded base (a small GPT-2 pretrained on review
// text, built on first use and cached): it continues text rather than following instructions, and
// has no chat template, so the conversation is written as "role: content" lines. An instruct model
// folder (e.g. Qwen2.5-0.5B-Instruct) uses its own chat template.
using System.Diagnostics;
using Microsoft.Extensions.AI;
using Peft.Extensions.AI;

string folder = args.Length > 0 ? args[0] : MLNetSample.EmbeddedBase.Ensure();
using IChatClient peft = PeftChatClient.Load(folder, args.Skip(1));
using IChatClient client = new ChatClientBuilder(peft)
    .ConfigureOptions(options => options.MaxOutputTokens ??= 40)  // a default length for requests that set none
    .Use(async (messages, options, next, cancellationToken) =>
    {
        var clock = Stopwatch.StartNew();
        await next(messages, options, cancellationToken);
        Console.Error.WriteLine($"  [{clock.Elapsed.TotalSeconds:F2} s]");
    })
    .Build();

var model = client.GetService<ChatClientMetadata>();
Console.WriteLine($"Chatting with {model?.DefaultModelId} through {model?.ProviderName}.");
var history = new List<ChatMessage> { new(ChatRole.System, "You write one-line reviews.") };
// The first turn greedy, the second sampled (seeded, so it repeats).
foreach (var (question, options) in new[] { ("The film was", new ChatOptions()), ("The soup was", new ChatOptions { Temperature = 0.7f, Seed = 1 }) })
{
    history.Add(new ChatMessage(ChatRole.User, question));
    Console.Write($"> {question}\n  ");
    var updates = new List<ChatResponseUpdate>();
    await foreach (var update in client.GetStreamingResponseAsync(history, options))
    {
        Console.Write(update.Text);   // streamed as it decodes
        updates.Add(update);
    }
    Console.WriteLine();
    history.AddMessages(updates);
}

// The whole-response call: same text as streaming, with token counts and why it stopped.
var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "The book")], new ChatOptions { MaxOutputTokens = 12 });
Console.WriteLine($"> The book\n  {response.Text}\n  ({response.Usage?.InputTokenCount} prompt tokens, " +
    $"{response.Usage?.OutputTokenCount} generated, finish: {response.FinishReason})");
