using AnomalyZT.Silo.Nab;

namespace AnomalyZT.Tests.Nab;

public sealed class NabLibraryDetectorTests
{
    [Theory]
    [InlineData("iid-spike", false, 0, 0)]
    [InlineData("iid-spike", false, 0.5, 100)]
    [InlineData("iid-spike-diff", false, 0, 0)]
    [InlineData("sr", false, 0, 0)]
    [InlineData("ssa-spike", true, 0, 0)]
    public async Task Run_LibraryDetectorOnCorpusSubset_ScoresFiniteAndWithinBounds(string detector, bool likelihood, double cut, int suppress)
    {
        var corpus = NabCorpus.Load(NabTestData.Root, NabTestData.Subset);
        var report = await NabRunner.RunAsync(corpus, NabDetectors.Factory(detector, likelihood, cut, suppress), detector, null, TestContext.Current.CancellationToken);
        foreach (var profile in new[] { "standard", "reward_low_FP_rate", "reward_low_FN_rate" })
        {
            var score = report[profile].NormalizedScore;
            Assert.True(double.IsFinite(score) && score is >= -100 and <= 100, $"{profile}: {score}");
        }
    }

    [Fact]
    public async Task Run_DefaultConfiguration_OnSubset_FindsSomething()
    {
        // The optimiser can always fall back to "never alert" (0); the default configuration must do better than that.
        var corpus = NabCorpus.Load(NabTestData.Root, NabTestData.Subset);
        var report = await NabRunner.RunAsync(corpus, NabDetectors.Factory(new AnomalyZT.Grains.Config.NabSettings()), "default", null, TestContext.Current.CancellationToken);
        Assert.True(report["standard"].NormalizedScore > 0, report.ToString());
        Assert.True(report["standard"].Best.TruePositives > 0);
    }

    [Fact]
    public void Factory_UnknownDetector_NamesTheAllowedOnes()
    {
        var ex = Assert.Throws<ArgumentException>(() => NabDetectors.Factory("magic", false));
        Assert.Contains("iid-spike", ex.Message, StringComparison.Ordinal);
    }
}
