/**
 * A change of the runner's props never fails a deployment: for each transition (triggers added, changed or removed;
 * RunOn.UPDATE added or removed), the update runs through the Provider framework and the shipped bundle
 * (support/framework.ts), and every request its functions make is checked with the IAM policy simulator against the
 * roles in place: the new props' policies on the way forward, and on the rollback that restores the old props, the
 * old ones or the new ones (CloudFormation may roll the policies back before or after the resource).
 */
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { FrameworkHarness, cfnRequest, otherIamRequests, serveFleet } from './support/framework';
import { ACCOUNT, EXECUTION_ROLE, REGION, STACK_NAME, Synthesized, TASK_ROLE, synthesize } from './support/runner';
import { startedByFor } from '../../lambda/ecs-task-runner/core';
import { EcsTaskRunnerProps, RunOn, TaskLaunchTarget } from '../../src';
import { AwsStandin } from '../support/aws-standin';
import { FakeFleet } from '../support/fake-fleet';
import { IamRequest, IamSimulator, distinctRequests, expectAllowed } from '../support/iam';

// Every call of a runner's function is a Node.js process.
jest.setTimeout(180_000);

const CREATE_ONLY = [RunOn.CREATE];
const BOTH = [RunOn.CREATE, RunOn.UPDATE];

interface Transition {
  readonly name: string;
  readonly before: Partial<EcsTaskRunnerProps> & { revision?: number };
  readonly after: Partial<EcsTaskRunnerProps> & { revision?: number };
  /** Whether the update runs the task (its rollback never does: runOnRollback is off). */
  readonly runs: boolean;
}

const TRANSITIONS: readonly Transition[] = [
  { name: 'triggers added', before: { runOn: CREATE_ONLY }, after: { runOn: CREATE_ONLY, triggers: { schema: '1' } }, runs: true },
  { name: 'a trigger changed', before: { runOn: CREATE_ONLY, triggers: { schema: '1' } }, after: { runOn: CREATE_ONLY, triggers: { schema: '2' } }, runs: true },
  { name: 'triggers removed', before: { runOn: CREATE_ONLY, triggers: { schema: '1' } }, after: { runOn: CREATE_ONLY }, runs: false },
  { name: 'RunOn.UPDATE added, with a new revision', before: { runOn: CREATE_ONLY }, after: { runOn: BOTH, revision: 2 }, runs: true },
  { name: 'RunOn.UPDATE removed, with a new revision', before: { runOn: BOTH }, after: { runOn: CREATE_ONLY, revision: 2 }, runs: false },
  { name: 'RunOn.UPDATE and triggers removed', before: { runOn: BOTH, triggers: { schema: '1' } }, after: { runOn: CREATE_ONLY }, runs: false },
];

let standin: AwsStandin;

beforeAll(async () => {
  standin = await new AwsStandin().start();
});

afterAll(async () => {
  await standin.stop();
});

/** The runner with these props, in the stack Deploy: Fargate, the task definition migrate (revision 1 unless said). */
function runnerWith(props: Transition['before']): Synthesized {
  const { revision = 1, ...rest } = props;
  return synthesize((u) => ({
    launchTarget: TaskLaunchTarget.fargate({ securityGroups: [u.securityGroup] }),
    ...(revision !== 1 ? {
      taskDefinition: ecs.TaskDefinition.fromTaskDefinitionAttributes(u.cluster.stack, `Migrations${revision}`, {
        taskDefinitionArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/migrate:${revision}`,
        compatibility: ecs.Compatibility.EC2_AND_FARGATE,
        networkMode: ecs.NetworkMode.AWS_VPC,
        taskRole: iam.Role.fromRoleArn(u.cluster.stack, `TaskRole${revision}`, TASK_ROLE),
        executionRole: iam.Role.fromRoleArn(u.cluster.stack, `ExecutionRole${revision}`, EXECUTION_ROLE),
      }),
    } : {}),
    ...rest,
  }));
}

interface Roles {
  readonly onEvent: IamSimulator;
  readonly isComplete: IamSimulator;
}

async function rolesOf(synthesized: Synthesized): Promise<Roles> {
  return {
    onEvent: await IamSimulator.forRole(synthesized.stack, synthesized.runner.onEventHandler),
    isComplete: await IamSimulator.forRole(synthesized.stack, synthesized.runner.isCompleteHandler),
  };
}

describe.each(TRANSITIONS)('props transition: $name', ({ before, after, runs }) => {
  let fleet: FakeFleet;

  beforeEach(() => {
    standin.reset();
    fleet = new FakeFleet({ region: REGION, accountId: ACCOUNT, now: () => new Date() });
    fleet.addCluster('prod');
    for (let i = 0; i < 2; i++) {
      fleet.registerTaskDefinition('migrate', { containers: [{ name: 'app' }], networkMode: 'awsvpc', requiresCompatibilities: ['FARGATE'], taskRoleArn: TASK_ROLE, executionRoleArn: EXECUTION_ROLE });
    }
    serveFleet(standin, fleet);
  });

  const stackStatus = (status: string) => standin.on('cloudformation', 'DescribeStacks', { Stacks: [{ StackName: STACK_NAME, StackStatus: status, CreationTime: new Date() }] });

  /** One update through the framework, and the IAM requests each function made for it. */
  async function update(synthesized: Synthesized, oldProperties: Record<string, any>) {
    const requests = { onEvent: [] as IamRequest[], isComplete: [] as IamRequest[] };
    let current: keyof typeof requests | undefined;
    let [fromFleet, fromStandin] = [fleet.calls.length, standin.calls.length];
    const collect = () => {
      if (current) {
        requests[current].push(...fleet.calls.slice(fromFleet).flatMap((c) => c.iam));
        requests[current].push(...otherIamRequests(standin.calls.slice(fromStandin), REGION, ACCOUNT));
      }
      [fromFleet, fromStandin] = [fleet.calls.length, standin.calls.length];
    };
    const framework = new FrameworkHarness({
      standin,
      synthesized,
      beforeInvocation: (handler) => {
        collect();
        current = handler;
      },
    });
    const physicalResourceId = startedByFor(synthesized.stackId, synthesized.logicalId);
    const outcome = await framework.request(cfnRequest(synthesized, 'update', { properties: synthesized.properties, oldProperties, physicalResourceId }));
    collect();
    return { outcome, requests: { onEvent: distinctRequests(requests.onEvent), isComplete: distinctRequests(requests.isComplete) } };
  }

  test(`the update ${runs ? 'runs the task' : 'runs nothing'} and succeeds, every call allowed by the new props' roles`, async () => {
    // Prepare
    const [old, next] = [runnerWith(before), runnerWith(after)];
    stackStatus('UPDATE_IN_PROGRESS');

    // Act
    const { outcome, requests } = await update(next, old.properties);

    // Assess
    expect(outcome.response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: startedByFor(next.stackId, next.logicalId) });
    expect(fleet.callsTo('ecs', 'RunTask')).toHaveLength(runs ? 1 : 0);
    const roles = await rolesOf(next);
    await expectAllowed(roles.onEvent, requests.onEvent);
    if (requests.isComplete.length > 0) await expectAllowed(roles.isComplete, requests.isComplete);
    if (!runs && !after.runOn?.includes(RunOn.UPDATE)) expect(standin.callsTo('cloudformation', 'DescribeStacks')).toEqual([]);
  });

  test('its rollback runs nothing and succeeds, every call allowed by the old props\' roles and by the new ones', async () => {
    // Prepare: CloudFormation restores the old props while the stack is UPDATE_ROLLBACK_IN_PROGRESS
    const [old, next] = [runnerWith(before), runnerWith(after)];
    stackStatus('UPDATE_ROLLBACK_IN_PROGRESS');

    // Act
    const { outcome, requests } = await update(old, next.properties);

    // Assess
    expect(outcome.response.Status).toBe('SUCCESS');
    expect(fleet.callsTo('ecs', 'RunTask')).toEqual([]);
    for (const roles of [await rolesOf(old), await rolesOf(next)]) await expectAllowed(roles.onEvent, requests.onEvent);
  });
});
