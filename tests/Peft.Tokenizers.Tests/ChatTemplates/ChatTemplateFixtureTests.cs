using System.Text.Json.Nodes;
using Peft.Tokenizers.ChatTemplates;

namespace Peft.Tokenizers.Tests.ChatTemplates;

/// <summary>Every case of shared/fixtures/chat_templates/cases.json, byte for byte against Python jinja2.</summary>
[TestClass]
public sealed class ChatTemplateFixtureTests
{
    private static readonly Dictionary<string, ChatTemplate> Parsed = [];

    public static IEnumerable<object[]> CaseIds =>
        ChatTemplateFixtures.Cases.Select(c => new object[] { c!["id"]!.GetValue<string>() });

    private static ChatTemplate TemplateOf(string source)
    {
        lock (Parsed)
        {
            if (!Parsed.TryGetValue(source, out var template)) Parsed[source] = template = ChatTemplate.Parse(source);
            return template;
        }
    }

    /// <summary>Renders one case; returns null when it matches, else a description of the difference.</summary>
    internal static string? Check(JsonObject testCase)
    {
        ChatTemplate template;
        try
        {
            template = TemplateOf(testCase["template"]!.GetValue<string>());
        }
        catch (ChatTemplateSyntaxException e)
        {
            return testCase["expected_error_type"]?.GetValue<string>() == "TemplateSyntaxError" ? null : $"syntax error: {e.Message}";
        }
        var context = ChatTemplateFixtures.ContextOf(testCase);
        string? expected = testCase["expected"]?.GetValue<string>();
        string? expectedError = testCase["expected_error"]?.GetValue<string>();
        string? errorSource = testCase["error_source"]?.GetValue<string>();
        string actual;
        try
        {
            actual = template.Render(context);
        }
        catch (ChatTemplateException e)
        {
            if (expected is not null) return $"threw {e.GetType().Name}: {e.Message}";
            if (errorSource == "raise_exception" && (e.Message != expectedError || !e.RaisedByTemplate))
                return $"raised '{e.Message}' (by template: {e.RaisedByTemplate}), expected '{expectedError}'";
            return null;
        }
        if (expected is null) return $"rendered, expected {errorSource} error '{expectedError}':\n{actual}";
        if (actual == expected) return null;
        int at = 0;
        while (at < actual.Length && at < expected.Length && actual[at] == expected[at]) at++;
        string Around(string s) => Escape(s.Substring(Math.Max(0, at - 40), Math.Min(s.Length, at + 60) - Math.Max(0, at - 40)));
        return $"differs at char {at} (lengths {actual.Length} vs expected {expected.Length})\n  actual:   {Around(actual)}\n  expected: {Around(expected)}";
    }

    private static string Escape(string s) => s.Replace("\n", "\\n").Replace("\t", "\\t");

    [TestMethod]
    [DynamicData(nameof(CaseIds))]
    public void Case_renders_as_python_jinja2(string id)
    {
        var testCase = ChatTemplateFixtures.Cases.OfType<JsonObject>().Single(c => c["id"]!.GetValue<string>() == id);
        string? problem = Check(testCase);
        if (problem is not null) Assert.Fail($"{id}: {problem}");
    }

    [TestMethod]
    public void All_cases_match() => AssertAllMatch(ChatTemplateFixtures.Cases);

    /// <summary>
    /// About 1,300 expressions, whitespace-control mixes and snippets rendered by Python jinja2 3.1.6 configured as transformers
    /// configures it (see ChatTemplates/Differential/README.md for how they were made).
    /// </summary>
    [TestMethod]
    public void Differential_cases_match_python_jinja2()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "ChatTemplates", "Differential", "jinja2-differential-cases.json");
        AssertAllMatch((JsonArray)JsonNode.Parse(File.ReadAllText(path))!);
    }

    /// <summary>
    /// Cases in the same format generated elsewhere (e.g. by a local Python jinja2 for more conversations), named by the
    /// CHAT_TEMPLATE_EXTRA_CASES environment variable; inconclusive when it is not set.
    /// </summary>
    [TestMethod]
    public void Extra_cases_match_when_given()
    {
        string? path = Environment.GetEnvironmentVariable("CHAT_TEMPLATE_EXTRA_CASES");
        if (string.IsNullOrEmpty(path)) Assert.Inconclusive("CHAT_TEMPLATE_EXTRA_CASES is not set");
        AssertAllMatch((JsonArray)JsonNode.Parse(File.ReadAllText(path))!);
    }

    private static void AssertAllMatch(JsonArray cases)
    {
        var failures = new List<string>();
        foreach (var testCase in cases.OfType<JsonObject>())
        {
            string? problem;
            try
            {
                problem = Check(testCase);
            }
            catch (Exception e)
            {
                problem = $"{e.GetType().Name}: {e.Message}";
            }
            if (problem is not null) failures.Add($"{testCase["id"]}: {problem}");
        }
        if (failures.Count > 0) Assert.Fail($"{failures.Count} of {cases.Count} cases differ:\n" + string.Join("\n", failures));
    }
}
