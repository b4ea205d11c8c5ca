namespace Peft.Onnx.Benchmarks;

/// <summary>The ONNX Runtime build in use, for the table's header.</summary>
internal static class OrtVersion
{
    public static string Text => Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetVersionString();
}
