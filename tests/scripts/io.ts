import type { Io } from '../../scripts/cli';

/** An Io that keeps what a command printed; `answers` are given, in order, to its questions. */
export const captureIo = (answers?: string[]) => {
  const out: string[] = [];
  const err: string[] = [];
  const questions: string[] = [];
  let clock = Date.parse('2023-11-14T22:13:20.000Z');
  const sleeps: number[] = [];
  const io: Io = {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    ...(answers === undefined
      ? {}
      : {
          ask: async (question: string) => {
            questions.push(question);
            return answers.shift() ?? '';
          },
        }),
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    now: () => new Date(clock),
  };
  return { io, out, err, questions, sleeps, text: () => out.join('\n'), errors: () => err.join('\n') };
};

/** The region choice of the operator commands, without asking this machine's AWS settings: --region, else the stage's. */
export const regionOfTest = async (flag: string | undefined, stage: string) =>
  flag === undefined
    ? { region: 'us-east-1', from: `serverless.yml params, where stage ${stage} is deployed` }
    : { region: flag, from: '--region' };
