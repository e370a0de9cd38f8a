namespace GpuMux.Engine.Tests;

public sealed class DescriptorBudgetTests
{
    [Fact]
    public void Takes_only_what_fits_and_refuses_to_take_back_more_than_was_taken()
    {
        var budget = new DescriptorBudget(10);
        Assert.True(budget.TryTake(5));
        Assert.True(budget.TryTake(5));
        Assert.False(budget.TryTake(1));
        budget.Return(5);
        Assert.Equal(5, budget.InUse);
        Assert.Throws<InvalidOperationException>(() => budget.Return(6));
    }

    [Fact]
    public async Task A_waiter_is_served_in_turn_once_enough_is_given_back_and_nobody_overtakes_it()
    {
        var budget = new DescriptorBudget(10);
        Assert.True(budget.TryTake(8));
        var waiting = budget.TakeAsync(5, TestContext.Current.CancellationToken);
        Assert.False(waiting.IsCompleted);

        // Two would fit now, but the waiter came first.
        Assert.False(budget.TryTake(2));
        budget.Return(2);
        Assert.False(waiting.IsCompleted);
        budget.Return(1);
        await waiting;
        Assert.Equal(10, budget.InUse);
    }

    [Fact]
    public async Task A_cancelled_waiter_leaves_the_line_and_lets_those_behind_it_through()
    {
        var budget = new DescriptorBudget(10);
        Assert.True(budget.TryTake(8));
        using var cancellation = new CancellationTokenSource();
        var first = budget.TakeAsync(5, cancellation.Token);
        var second = budget.TakeAsync(2, TestContext.Current.CancellationToken);
        Assert.False(second.IsCompleted);

        await cancellation.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        await second;
        Assert.Equal(10, budget.InUse);
    }
}
