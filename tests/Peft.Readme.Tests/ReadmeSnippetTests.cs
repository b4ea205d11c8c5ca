// Runs the README's C# blocks (compiled by ReadmeSnippets.targets) against tiny models made on the spot, from a working
// folder where the blocks' placeholder paths exist: path/to/model is a tiny GPT-2 with a tokenizer, path/to/adapter
// a LoRA adapter, and so on. The names a block declares as givens are supplied by Givens below.
using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Peft.MLNet.Tests;
using Peft.Tensors;
using Peft.Transformers.Configuration;
using Peft.Transformers.Generation;
using Peft.Transformers.Loading;
using Peft.Transformers.Models;
using Peft.Tuners.Adapters;
using Peft.Tuners.Lora;
using Peft.Tuners.PeftModels;
using Peft.Tuners.PrefixTuning;
using Peft.Tuners.PromptTuning;
using Peft.Tuners.Training;
using ReadmeSnippets;

// The blocks use relative paths, so the working directory is the world's folder while they run: one test at a time.
[assembly: DoNotParallelize]

namespace Peft.Readme.Tests;

[TestClass]
public sealed class ReadmeSnippetTests
{
    private static string _world = "";
    private static string _previousDirectory = "";

    public static IEnumerable<object[]> RunnableSnippets =>
        Snippets().Where(s => s.Attribute.CompileOnly is null).Select(s => new object[] { s.Type.Name });

    public static string SnippetDisplayName(MethodInfo method, object[] data) =>
        Snippets().Single(s => s.Type.Name == (string)data[0]) is var s ? $"{s.Attribute.File}:{s.Attribute.Line}" : "";

    [ClassInitialize]
    public static void MakeWorld(TestContext context)
    {
        _world = Path.Combine(Path.GetTempPath(), $"peft-readme-{Guid.NewGuid():N}");
        string model = Path.Combine(_world, "path", "to", "model");
        using (var tiny = TinyBase.Create("gpt2"))
        {
            CopyFolder(tiny.Folder, model);
            // The chat block asks for up to 256 new tokens: more positions than TinyBase's 128 (same shapes otherwise, so
            // path/to/adapter fits it too).
            string instruct = Path.Combine(_world, "path", "to", "instruct-model");
            var config = ModelConfig.Parse(new JsonObject
            {
                ["model_type"] = "gpt2", ["vocab_size"] = 257, ["n_embd"] = 32, ["n_layer"] = 2, ["n_head"] = 2, ["n_positions"] = 512,
                ["eos_token_id"] = TinyBase.EndOfText, ["bos_token_id"] = TinyBase.EndOfText,
            }.ToJsonString(), "tiny instruct config");
            var chat = ModelLoader.CreateCausal(config);
            ModelInitializer.InitializeRandom(chat.Parameters, seed: 5);
            ModelLoader.Save(chat, instruct);
            File.Copy(Path.Combine(tiny.Folder, "tokenizer.json"), Path.Combine(instruct, "tokenizer.json"));
        }
        var peft = new PeftModel(ModelLoader.LoadCausal(model));
        peft.AddAdapter("lora", new LoraConfig { R = 4, TargetModules = TargetModules.FromNames("c_attn") }, seed: 1);
        peft.AddAdapter("prefix", new PrefixTuningConfig { NumVirtualTokens = 4 }, seed: 2);
        peft.AddAdapter("prompt", new PromptTuningConfig { NumVirtualTokens = 4 }, seed: 3);
        peft.SaveAdapter("lora", Path.Combine(_world, "path", "to", "adapter"));
        peft.SaveAdapter("prefix", Path.Combine(_world, "path", "to", "domain-prefix"));
        peft.SaveAdapter("prompt", Path.Combine(_world, "path", "to", "prompt-adapter"));
        _previousDirectory = Environment.CurrentDirectory;
        Environment.CurrentDirectory = _world;
    }

    [ClassCleanup]
    public static void RemoveWorld()
    {
        if (_previousDirectory.Length > 0) Environment.CurrentDirectory = _previousDirectory;
        if (Directory.Exists(_world)) Directory.Delete(_world, recursive: true);
    }

    [TestMethod]
    [DynamicData(nameof(RunnableSnippets), DynamicDataDisplayName = nameof(SnippetDisplayName))]
    public async Task Block_runs(string snippet)
    {
        var (type, attribute) = Snippets().Single(s => s.Type.Name == snippet);
        var run = type.GetMethod("Run", BindingFlags.Public | BindingFlags.Static)!;
        var givens = new Givens();
        object?[] arguments = [.. run.GetParameters().Select(p => givens.For(p, attribute))];
        if (run.Invoke(null, arguments) is Task task) await task;
    }

    [TestMethod]
    public void Every_csharp_block_of_the_pages_is_a_snippet_class()
    {
        // Independent of the extraction's own parser: a fence whose language is C# in any spelling.
        var fence = new Regex(@"^\s*(`{3,}|~{3,})\s*(csharp|cs|c#)\s*$", RegexOptions.IgnoreCase);
        string root = RepositoryRoot();
        var pages = new[] { Path.Combine(root, "README.md") }
            .Concat(Directory.Exists(Path.Combine(root, "docs")) ? Directory.GetFiles(Path.Combine(root, "docs"), "*.md", SearchOption.AllDirectories) : []);
        var expected = new List<string>();
        foreach (string page in pages)
        {
            string relative = Path.GetRelativePath(root, page).Replace('\\', '/');
            string[] lines = File.ReadAllLines(page);
            for (int i = 0; i < lines.Length; i++)
                if (fence.IsMatch(lines[i])) expected.Add($"{relative}:{i + 1}");
        }
        var compiled = Snippets().Select(s => $"{s.Attribute.File}:{s.Attribute.Line}").ToList();
        Assert.IsTrue(expected.Count > 0, "no C# block found in README.md");
        CollectionAssert.AreEquivalent(expected, compiled, "the blocks on the pages and the snippet classes compiled from them differ (build again)");
    }

    private static IEnumerable<(Type Type, SnippetAttribute Attribute)> Snippets() =>
        from type in typeof(SnippetAttribute).Assembly.GetTypes()
        let attribute = type.GetCustomAttribute<SnippetAttribute>()
        where attribute is not null
        orderby attribute.File, attribute.Line
        select (type, attribute);

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Peft.MLNet.sln"))) return dir.FullName;
        throw new InvalidOperationException($"No Peft.MLNet.sln above {AppContext.BaseDirectory}.");
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
    }

    /// <summary>
    /// The values behind the names blocks declare with "snippet-givens", by parameter name; one model per block run,
    /// so a block's model, ids and step belong together.
    /// </summary>
    private sealed class Givens
    {
        private readonly Lazy<CausalLanguageModel> _model = new(() => ModelLoader.LoadCausal("path/to/model"));

        public object? For(ParameterInfo parameter, SnippetAttribute snippet)
        {
            object? value = parameter.Name switch
            {
                "model" => _model.Value,
                "ids" or "labels" or "promptIds" => Ids("hello world", "a prompt"),
                "oneRowIds" => Ids("once upon"),
                "mask" or "promptMask" => IntTensor.FromArray(Enumerable.Repeat(1, 2 * 9).ToArray(), 2, 9),
                "options" => new GenerationOptions { MaxNewTokens = 4 },
                "myStep" => new ModelStep(_model.Value),
                "token" or "ct" => CancellationToken.None,
                "rows" => Rows(),
                "trainRows" or "evalRows" => Examples(),
                _ => throw new InvalidOperationException(
                    $"{snippet.File}:{snippet.Line} declares the given '{parameter.ParameterType.Name} {parameter.Name}', which ReadmeSnippetTests.Givens does not supply."),
            };
            if (!parameter.ParameterType.IsInstanceOfType(value))
                throw new InvalidOperationException(
                    $"{snippet.File}:{snippet.Line} declares '{parameter.ParameterType.Name} {parameter.Name}', but Givens supplies a {value?.GetType().Name ?? "null"}.");
            return value;
        }

        // Two rows of nine bytes each (the tiny tokenizer's ids are the UTF-8 bytes).
        private static IntTensor Ids(params string[] rows) =>
            IntTensor.FromArray([.. rows.SelectMany(r => r.PadRight(9)[..9].Select(c => (int)c))], rows.Length, 9);

        private static Review[] Rows() =>
        [
            .. from word in new[] { ("great", "positive"), ("awful", "negative"), ("okay", "neutral"), ("lovely", "positive"), ("boring", "negative"), ("fine", "neutral") }
               from frame in new[] { "the film was {0}", "{0} acting" }
               select new Review { Text = string.Format(System.Globalization.CultureInfo.InvariantCulture, frame, word.Item1), Sentiment = word.Item2 },
        ];

        private static List<TrainingExample> Examples() =>
            [.. new[] { "colour of sky? blue.", "colour of grass? green." }.Select(t => new TrainingExample([.. t.Select(c => (int)c)], [.. t.Select(c => (int)c)]))];
    }
}
