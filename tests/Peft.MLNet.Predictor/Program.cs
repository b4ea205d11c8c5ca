// Usage: Peft.MLNet.Predictor MODEL.zip TEXTS.txt
// Loads the zip with ML.NET's Model.Load (our factories are found through the assembly the zip names)
// and prints, per line of TEXTS.txt, the predicted class and the scores as exact float bits.
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

if (args.Length != 2)
{
    Console.Error.WriteLine("usage: Peft.MLNet.Predictor MODEL.zip TEXTS.txt");
    return 2;
}
var ml = new MLContext();
var model = ml.Model.Load(args[0], out _);
var rows = File.ReadAllLines(args[1]).Select(t => new Row { Text = t, Sentiment = "" }).ToArray();
var scored = model.Transform(ml.Data.LoadFromEnumerable(rows));
var keys = scored.GetColumn<uint>("PredictedLabel").ToArray();
var scores = scored.GetColumn<float[]>("Score").ToArray();
for (int i = 0; i < rows.Length; i++)
    Console.WriteLine($"{keys[i]} {string.Join(",", scores[i].Select(s => BitConverter.SingleToInt32Bits(s).ToString(CultureInfo.InvariantCulture)))}");
return 0;

internal sealed class Row
{
    public string Text { get; set; } = "";

    public string Sentiment { get; set; } = "";
}
