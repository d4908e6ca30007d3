/** The cost arithmetic of the Lambda-size sweep, and the CPU share it emulates. */
import { describe, expect, it } from 'vitest';
import { FULL_VCPU_MEMORY_MB, lambdaVcpus } from '../../bench/cpu-quota.js';
import { LAMBDA_PRICES, usdPerFollowerMonth, usdPerMillionEntries } from '../../bench/lambda-prices.js';

describe('Lambda cost per million entries', () => {
  it('bills the drain duration in GB-seconds and one request per invocation', () => {
    // 1,000,000 entries at 100/s = 10,000 s at 0.25 GB, in 250 invocations of 40 s.
    const usd = usdPerMillionEntries({ memoryMb: 256, workingSecondsPerInvocation: 40 }, 100);
    expect(usd).toBeCloseTo(0.25 * 10_000 * LAMBDA_PRICES.usdPerGbSecond + 250 * 0.2e-6, 9);
    expect(usd).toBeCloseTo(0.033_383_5, 6);
  });

  it('is the same for twice the memory at twice the speed, but for the requests', () => {
    const model = (memoryMb: number) => ({ memoryMb, workingSecondsPerInvocation: 40 });
    const small = usdPerMillionEntries(model(512), 50);
    const large = usdPerMillionEntries(model(1_024), 100);
    expect(large).toBeLessThan(small);
    expect(small - large).toBeCloseTo(250 * 0.2e-6, 9);
  });
});

describe('a follower billed all month', () => {
  it('costs GB-seconds of 30 days and a request a minute', () => {
    expect(usdPerFollowerMonth(256)).toBeCloseTo(0.25 * 2_592_000 * 0.000_013_333_4 + 43_200 * 0.2e-6, 6);
    expect(usdPerFollowerMonth(1_024)).toBeCloseTo(4 * usdPerFollowerMonth(256) - 3 * 43_200 * 0.2e-6, 6);
  });
});

describe('CPU share', () => {
  it('is one vCPU at 1,769 MB, in proportion', () => {
    expect(lambdaVcpus(FULL_VCPU_MEMORY_MB)).toBe(1);
    expect(lambdaVcpus(256)).toBeCloseTo(0.1447, 4);
    expect(lambdaVcpus(3_538)).toBe(2);
  });
});
