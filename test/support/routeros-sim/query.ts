// `print` query words, evaluated the way the RouterOS API manual describes: each query word
// pushes one boolean per item onto a stack, `?#` words combine stack values, and whatever is
// left on the stack is and-ed together (an empty stack matches every item).

export type Row = Readonly<Record<string, string>>;

export class QueryError extends Error {
  override readonly name = 'QueryError';
}

type Step = (row: Row, stack: boolean[]) => void;

function compare(left: string, right: string): number {
  const a = Number(left);
  const b = Number(right);
  if (left !== '' && right !== '' && Number.isFinite(a) && Number.isFinite(b)) return a - b;
  return left < right ? -1 : left > right ? 1 : 0;
}

function pop(stack: boolean[]): boolean {
  const value = stack.pop();
  if (value === undefined) throw new QueryError('query stack underflow');
  return value;
}

function operationsStep(ops: string): Step {
  if (!/^[0-9.!&|]*$/.test(ops)) throw new QueryError(`unknown query operation in ?#${ops}`);
  return (_row, stack) => {
    let i = 0;
    let afterIndex = false;
    while (i < ops.length) {
      const ch = ops[i]!;
      if (ch >= '0' && ch <= '9') {
        let end = i;
        while (end < ops.length && ops[end]! >= '0' && ops[end]! <= '9') end++;
        const index = Number(ops.slice(i, end));
        const value = stack[stack.length - 1 - index];
        if (value === undefined) throw new QueryError(`query stack has no index ${index}`);
        // An index at the very end replaces the whole stack; anywhere else it pushes a copy.
        if (end === ops.length) stack.splice(0, stack.length, value);
        else stack.push(value);
        i = end;
        afterIndex = true;
        continue;
      }
      if (ch === '.') {
        if (!afterIndex) {
          const top = stack[stack.length - 1];
          if (top === undefined) throw new QueryError('query stack underflow');
          stack.push(top);
        }
      } else if (ch === '!') {
        stack.push(!pop(stack));
      } else {
        const right = pop(stack);
        const left = pop(stack);
        stack.push(ch === '&' ? left && right : left || right);
      }
      afterIndex = false;
      i++;
    }
  };
}

function wordStep(word: string): Step {
  const body = word.slice(1);
  if (body.startsWith('#')) return operationsStep(body.slice(1));

  const op = body[0];
  if (op === '<' || op === '>') {
    const eq = body.indexOf('=');
    if (eq < 2) throw new QueryError(`malformed query word ${word}`);
    const name = body.slice(1, eq);
    const value = body.slice(eq + 1);
    return (row, stack) => {
      const actual = row[name];
      stack.push(actual !== undefined && (op === '<' ? compare(actual, value) < 0 : compare(actual, value) > 0));
    };
  }

  // `?=name=x` is the long form of `?name=x`.
  const text = op === '=' ? body.slice(1) : body;
  const eq = text.indexOf('=');
  if (eq === -1) {
    if (text.startsWith('-') && text.length > 1) {
      const name = text.slice(1);
      return (row, stack) => void stack.push(!(name in row));
    }
    if (text === '') throw new QueryError(`malformed query word ${word}`);
    return (row, stack) => void stack.push(text in row);
  }
  const name = text.slice(0, eq);
  const value = text.slice(eq + 1);
  if (name === '') throw new QueryError(`malformed query word ${word}`);
  // An absent property compares as empty, so `?comment=` finds items without a comment.
  return (row, stack) => void stack.push((row[name] ?? '') === value);
}

/** Compiles query words (each starting with `?`) into a row predicate; throws QueryError on malformed ones. */
export function compileQuery(words: readonly string[]): (row: Row) => boolean {
  const steps = words.map(wordStep);
  if (steps.length === 0) return () => true;
  return (row) => {
    const stack: boolean[] = [];
    for (const step of steps) step(row, stack);
    return stack.every(Boolean);
  };
}
