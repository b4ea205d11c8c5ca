using Peft.Tensors.Optimizers;
using Peft.Tensors.Tests.Support;

namespace Peft.Tensors.Tests;

[TestClass]
public sealed class SgdTests
{
    [TestMethod]
    [DataRow(0f, false)]
    [DataRow(0.9f, false)]
    [DataRow(0.9f, true)]
    public void MatchesTorchSgdRecurrence(float momentum, bool nesterov)
    {
        double[] p = [1.0, -2.0, 0.5];
        double[][] grads = [[0.1, 0.2, -0.3], [0.4, -0.1, 0.0], [-0.2, 0.3, 0.5]];
        double lr = 0.1, wd = 0.01;
        var param = Tensor.Parameter(p.Select(x => (float)x).ToArray(), new Shape(3));
        var opt = new Sgd([param], (float)lr, momentum, weightDecay: (float)wd, nesterov: nesterov);
        var buf = new double[3];
        for (int t = 0; t < grads.Length; t++)
        {
            param.Grad = Tensor.FromArray(grads[t].Select(x => (float)x).ToArray(), 3);
            opt.Step();
            for (int i = 0; i < 3; i++)
            {
                double d = grads[t][i] + wd * p[i];
                if (momentum != 0)
                {
                    buf[i] = t == 0 ? d : momentum * buf[i] + d;
                    d = nesterov ? d + momentum * buf[i] : buf[i];
                }
                p[i] -= lr * d;
            }
        }
        GradientCheck.AssertClose(p.Select(x => (float)x).ToArray(), param.ToArray(), atol: 1e-6, what: "SGD");
    }
}
