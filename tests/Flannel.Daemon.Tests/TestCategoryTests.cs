namespace Flannel.Daemon.Tests;

/// <summary>Every test here says what it needs (Flannel.TestSupport.TestCategories), so that a category filter misses none.</summary>
[Unit]
public class TestCategoryTests
{
    [Fact]
    public void Every_test_has_one_known_category_or_more_and_unit_goes_alone()
    {
        var problems = TestCategories.Problems(typeof(TestCategoryTests).Assembly);
        Assert.True(problems.Count == 0, $"{problems.Count} tests:\n" + string.Join("\n", problems));
    }
}
