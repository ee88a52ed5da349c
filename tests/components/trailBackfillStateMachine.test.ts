/**
 * TrailBackfill's state machine judged by references nobody here wrote: its definition, as the component generates
 * it (the dev stack and other option combinations), validated by asl-validator and by AWS's
 * amazon-states-language-service; and executed by aws-local-stepfunctions with the real handler against the
 * LookupEvents and S3 fakes, next to the in-repo interpreter.
 */
import { getLanguageService, TextDocument } from "amazon-states-language-service";
import aslValidator from "asl-validator";
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";

import { AlertTopic, TrailBackfill } from "../../components";
import { handleBackfillEvent } from "../../functions/trailBackfill/handler";
import { logFileKey } from "../../functions/trailBackfill/logFiles";
import type { BackfillSummary } from "../../functions/trailBackfill/summary";
import type { RecordedResource } from "../../preview/mockCloud";
import { definitionProblems } from "../../simulation/aslDefinition";
import { BackfillHarness } from "../../simulation/backfillHarness";
import { fakeEvent, type FakeEvent } from "../../simulation/fakeCloudTrail";
import { runOnLocalStepFunctions } from "../../simulation/localStepFunctions";
import { recordingLogger } from "../../simulation/recorders";
import { logFileRecords } from "../../simulation/s3Server";
import { type InvokeLambda, StateMachineInterpreter, StatesError } from "../../simulation/stateMachineInterpreter";
import { seededRandom, VirtualClock } from "../../simulation/virtualClock";
import { devStack } from "../support/devStack";
import { resourcesOf, single } from "../support/engine";

type Definition = Record<string, unknown> & { States: Record<string, Record<string, unknown>> };

const FUNCTION_ARN = "arn:aws:lambda:ap-northeast-1:111111111111:function:sm-backfill";

/** The definition text the component gave its state machine resource. */
function definitionText(resources: RecordedResource[], name?: string): string {
  return single(resources, "aws:sfn/stateMachine:StateMachine", name).inputs.definition as string;
}

/** asl-validator's errors (it writes into the definition it checks: give it a copy). */
function aslValidatorErrors(text: string): string[] {
  const result = aslValidator(JSON.parse(text) as object, { checkArn: true, checkPaths: true });
  return result.isValid ? [] : result.errorsText("\n").split("\n");
}

/** amazon-states-language-service's diagnostics on the definition text, as the Step Functions editors show them. */
async function languageServiceDiagnostics(text: string): Promise<string[]> {
  const service = getLanguageService({});
  const document = TextDocument.create("file:///backfill.asl.json", "json", 1, text);
  const diagnostics = await service.doValidation(document, service.parseJSONDocument(document));
  return diagnostics.map((d) => `${d.range.start.line + 1}:${d.range.start.character + 1} ${typeof d.message === "string" ? d.message : d.message.value}`);
}

/** Every problem the three checkers find in `text`. */
async function allProblems(text: string) {
  const ours = definitionProblems(JSON.parse(text));
  return { aslValidator: aslValidatorErrors(text), languageService: await languageServiceDiagnostics(text), inRepo: [...ours.invalid, ...ours.unsimulated] };
}

describe("TrailBackfill state machine (by references nobody here wrote)", () => {
  describe("definition", () => {
    const cases: Array<{ name: string; text: () => Promise<string> }> = [
      { name: "the dev stack (4 reader roles, MaxConcurrency 40)", text: async () => definitionText((await devStack()).resources, "backfill") },
      {
        name: "no reader roles, MaxConcurrency 1",
        text: async () => definitionText(await resourcesOf(new TrailBackfill("tbsm-bare", { alertTopic: new AlertTopic("tbsm-bare-topic", {}), maxConcurrency: 1 }))),
      },
      {
        name: "an adopted bucket with a prefix, one reader role, an external ID, MaxConcurrency 10000",
        text: async () => {
          const backfill = new TrailBackfill("tbsm-adopted", {
            alertTopic: new AlertTopic("tbsm-adopted-topic", {}),
            existingBucketName: "tbsm-trail-logs",
            prefix: "org",
            readerExternalId: "tbsm-external",
            maxConcurrency: 10000,
            stateMachineName: "tbsm-adopted",
          });
          backfill.addReaderRole("222222222222", pulumi.output("arn:aws:iam::222222222222:role/tbsm-reader"));
          return definitionText(await resourcesOf(backfill));
        },
      },
    ];

    for (const c of cases) {
      it(`${c.name}: asl-validator, amazon-states-language-service and the in-repo check find no problem`, async () => {
        // Act
        const text = await c.text();

        // Assess
        expect(JSON.parse(text)).to.have.nested.property("States.BackfillPairs.ItemProcessor.ProcessorConfig.Mode", "DISTRIBUTED");
        expect(await allProblems(text)).to.deep.equal({ aslValidator: [], languageService: [], inRepo: [] });
      });
    }

    it("each checker refuses the definition with a fault it knows (so an empty list above means something)", async () => {
      // Prepare: three faults on the generated definition.
      const base = TrailBackfill.definition({ functionArn: FUNCTION_ARN, readerRoleArns: {}, maxConcurrency: 1 }) as Definition;
      const faulty = (change: (pair: Definition["States"], top: Definition) => void) => {
        const copy = structuredClone(base);
        change((copy.States.BackfillPairs.ItemProcessor as Definition).States, copy);
        return JSON.stringify(copy, null, 2);
      };

      // Act
      const resultSelectorOnPass = await allProblems(faulty((pair) => (pair.PairFailed.ResultSelector = { "error.$": "$.Error" })));
      const missingDefault = await allProblems(faulty((pair) => (pair["PairDone?"].Default = "Fetch again")));
      const jsonataWithPaths = await allProblems(faulty((_pair, top) => (top.States.Summarize.QueryLanguage = "JSONata")));

      // Assess: what each checker notices (the language service does not check JSONata against JSONPath fields).
      const counts = (p: Awaited<ReturnType<typeof allProblems>>) => [p.aslValidator.length > 0, p.languageService.length > 0, p.inRepo.length > 0];
      expect(counts(resultSelectorOnPass)).to.deep.equal([true, true, true]);
      expect(counts(missingDefault)).to.deep.equal([true, true, true]);
      expect(counts(jsonataWithPaths)).to.deep.equal([true, false, true]);
      expect(jsonataWithPaths.inRepo).to.deep.equal(["state Summarize: a JSONata state cannot have the JSONPath field(s) Parameters, OutputPath"]);
    });
  });

  describe("executions with the real handler against the LookupEvents and S3 fakes", () => {
    const NOW = Date.parse("2024-06-01T00:00:00Z");
    const START = Date.parse("2024-05-20T10:00:00Z");
    const END = Date.parse("2024-05-20T12:00:00Z");
    const BUCKET = "tbsm-backfill";
    const EXTERNAL_ID = "tbsm-external";
    const READERS: Record<string, string> = {
      "111111111111": "arn:aws:iam::111111111111:role/tbsm-reader",
      "222222222222": "arn:aws:iam::222222222222:role/tbsm-reader",
      "333333333333": "arn:aws:iam::333333333333:role/tbsm-reader",
    };
    const REGIONS = ["us-east-1", "ap-northeast-1"];
    const INPUT = { accounts: Object.keys(READERS), regions: REGIONS, startTime: new Date(START).toISOString(), endTime: new Date(END).toISOString() };
    const definition = TrailBackfill.definition({ functionArn: FUNCTION_ARN, readerRoleArns: READERS, maxConcurrency: 4 });

    /** A world where 333333333333's reader role refuses the function, and 150 events per pair around the range. */
    async function world() {
      const clock = new VirtualClock(NOW);
      const harness = await BackfillHarness.start({ clock, roles: ["111111111111", "222222222222"].map((a) => ({ arn: READERS[a], externalId: EXTERNAL_ID })), buckets: [BUCKET] });
      const random = seededRandom(1212);
      const expected: string[] = [];
      for (const account of Object.keys(READERS)) {
        for (const region of REGIONS) {
          const events: FakeEvent[] = Array.from({ length: 150 }, (_, i) => fakeEvent({ id: `sm-${account.slice(0, 1)}-${region}-${i}`, time: START - 600_000 + Math.floor(random() * 8400) * 1000, account, region }));
          harness.lookup.setEvents(account, region, events);
          expected.push(...(account === "333333333333" ? [] : events.filter((e) => e.time >= START && e.time < END).map((e) => e.id)));
        }
      }
      const calls: Array<{ action: string; result?: unknown }> = [];
      // The handler as the Lambda runs it, with 5 s of each invocation for requests (so each pair needs several).
      const invoke: InvokeLambda = async (_arn, payload) => {
        const call: { action: string; result?: unknown } = { action: (payload as { action: string }).action };
        calls.push(call);
        call.result = await handleBackfillEvent(payload, { bucket: BUCKET }, {
          cloudTrailFor: (roleArn, region) => Promise.resolve(harness.cloudTrailClient(roleArn, region, EXTERNAL_ID)),
          s3: harness.s3Client(),
          clock,
          random: seededRandom(calls.length),
          logger: recordingLogger(),
          remainingTimeInMillis: 125_000,
        });
        return call.result;
      };
      return { clock, harness, expected, calls, invoke };
    }

    /** The files written: each record's ID, and whether each key is the one its first record's window names. */
    async function filesOf(harness: BackfillHarness) {
      const objects = await harness.s3.objects(BUCKET);
      const ids = objects.flatMap((o) => logFileRecords(o.bytes).map((r) => String(r.eventID)));
      const misnamed = objects.filter((o) => {
        const [first] = logFileRecords(o.bytes);
        const windowStart = new Date(Math.floor(Date.parse(first.eventTime as string) / 300_000) * 300_000);
        return o.key !== logFileKey({ accountId: String(first.recipientAccountId), region: String(first.awsRegion), windowStart });
      });
      return { ids: ids.sort(), keys: objects.map((o) => o.key).sort(), misnamed: misnamed.map((o) => o.key) };
    }

    /** The summary without the counts that depend on scheduling (requests, throttles, invocations). */
    const essentials = (summary: BackfillSummary) => ({
      pairs: summary.pairs,
      failed: summary.failed,
      done: summary.done.map(({ account, region, events, files, rejected }) => ({ account, region, events, files, rejected })),
      totals: { events: summary.totals.events, files: summary.totals.files },
    });

    it("aws-local-stepfunctions runs a backfill end to end: every event in range written once, the denied account's pairs listed as failed; the in-repo interpreter agrees", async function () {
      this.timeout(120_000);
      // Prepare
      const local = await world();
      const ours = await world();

      // Act: the same execution on both interpreters, each in a world of its own.
      const theirs = (await local.clock.run(() => runOnLocalStepFunctions(definition, INPUT, local.invoke))) as BackfillSummary;
      const mine = (await ours.clock.run(() => new StateMachineInterpreter(definition, ours.invoke).start(INPUT))).output as BackfillSummary;
      const [localFiles, ourFiles] = [await filesOf(local.harness), await filesOf(ours.harness)];
      await Promise.all([local.harness.stop(), ours.harness.stop()]);

      // Assess
      expect(theirs.failed).to.deep.equal(REGIONS.map((region) => ({ account: "333333333333", region, error: "ReaderRoleAccessDeniedError" })));
      expect(theirs.done.map((d) => `${d.account}/${d.region}`).sort()).to.deep.equal(["111111111111", "222222222222"].flatMap((a) => REGIONS.map((r) => `${a}/${r}`)).sort());
      expect(theirs.done.every((d) => d.invocations > 1), "each pair needed several invocations").to.equal(true);
      expect(localFiles.ids).to.deep.equal([...local.expected].sort());
      expect(localFiles.misnamed).to.deep.equal([]);
      expect(theirs.totals).to.deep.include({ events: local.expected.length, files: localFiles.keys.length });
      expect(theirs.requested).to.deep.equal({ startTime: INPUT.startTime, endTime: INPUT.endTime });
      const fetched = local.calls.filter((c) => c.action === "fetch" && c.result !== undefined);
      expect(fetched.length).to.be.greaterThan(4);
      expect(fetched.filter((c) => typeof (c.result as { done?: unknown }).done !== "boolean")).to.deep.equal([]);
      expect(essentials(mine)).to.deep.equal(essentials(theirs));
      expect(ourFiles).to.deep.equal(localFiles);
    });

    it("a fetch result without `done` fails each pair's child with States.Runtime, past its catcher, on both interpreters", async function () {
      this.timeout(120_000);
      // Prepare: the handler's fetch results lose `done` on their way to the state machine.
      const local = await world();
      const ours = await world();
      const withoutDone = (invoke: InvokeLambda): InvokeLambda => async (arn, payload) => {
        const result = await invoke(arn, payload);
        if ((payload as { action: string }).action !== "fetch") return result;
        const rest = { ...(result as Record<string, unknown>) };
        delete rest.done;
        return rest;
      };

      // Act
      const theirs = await local.clock.run(() => runOnLocalStepFunctions(definition, INPUT, withoutDone(local.invoke))).then(
        () => undefined,
        (error: StatesError) => error,
      );
      const interpreter = new StateMachineInterpreter(definition, withoutDone(ours.invoke));
      const mine = (await ours.clock.run(() => interpreter.start(INPUT))).output as BackfillSummary;
      await Promise.all([local.harness.stop(), ours.harness.stop()]);

      // Assess: in-repo (a Distributed Map: one child execution per pair, failures tolerated), the child of every
      // readable pair fails in its Choice after one invocation, never reaching PairFailed (the denied account's pairs
      // still end there); the summary counts them from the children's errors, but cannot name their pairs (a child
      // failing past its catcher leaves only { Error, Cause }). aws-local-stepfunctions runs the Map inline, so the
      // first such child fails the whole execution.
      const children = interpreter.children.map((c) => ({ pair: `${(c.input as { account: string }).account}/${(c.input as { region: string }).region}`, error: c.error?.Error, invocations: c.invocations }));
      const readable = ["111111111111", "222222222222"].flatMap((a) => REGIONS.map((r) => `${a}/${r}`));
      expect(children.filter((c) => readable.includes(c.pair)).map(({ error, invocations }) => ({ error, invocations }))).to.deep.equal(readable.map(() => ({ error: "States.Runtime", invocations: 1 })));
      expect(children.filter((c) => !readable.includes(c.pair)).map((c) => c.error)).to.deep.equal([undefined, undefined]);
      expect(mine.done).to.deep.equal([]);
      expect(mine.failed.map((f) => `${f.account}/${f.region} ${f.error}`).sort()).to.deep.equal(
        [...readable.map(() => "unknown/unknown States.Runtime"), ...REGIONS.map((r) => `333333333333/${r} ReaderRoleAccessDeniedError`)].sort(),
      );
      expect(theirs?.error).to.equal("States.Runtime");
      expect(local.calls.filter((c) => c.action === "summarize")).to.deep.equal([]);
    });

    it("aws-local-stepfunctions cannot run a Distributed Map's ItemReader: it ignores it (the in-repo interpreter refuses it)", async () => {
      // Prepare: the items read from S3 instead of the plan's output.
      const withReader = structuredClone(definition) as Definition;
      withReader.States.BackfillPairs.ItemReader = { Resource: "arn:aws:states:::s3:getObject", ReaderConfig: { InputType: "JSON" }, Parameters: { Bucket: BUCKET, Key: "items.json" } };
      delete withReader.States.BackfillPairs.ItemsPath;
      const invoke: InvokeLambda = (_arn, payload) => Promise.resolve((payload as { action: string }).action === "plan" ? { startTime: "s", endTime: "e", requested: {} } : null);

      // Act
      const theirs = await runOnLocalStepFunctions(withReader, INPUT, invoke).then(
        () => undefined,
        (error: StatesError) => error,
      );
      const refusal = (() => {
        try {
          new StateMachineInterpreter(withReader, invoke);
          return undefined;
        } catch (error) {
          return error as Error & { problems: string[] };
        }
      })();

      // Assess
      expect(aslValidatorErrors(JSON.stringify(withReader))).to.deep.equal([]);
      expect(theirs?.error).to.equal("States.Runtime");
      expect(theirs?.cause).to.match(/must be an array/);
      expect(refusal?.name).to.equal("NotSimulated");
      expect(refusal?.problems).to.deep.equal(["state BackfillPairs: ItemReader is not simulated"]);
    });
  });
});
