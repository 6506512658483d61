// The quiz dialog and the harvest game.
//
//   initQuiz({ onHarvested(pos, result), onLemonGone(pos), onCooldown(seconds) });
//   startQuiz(pos);   // logged in: GET /api/quiz/<pos>, then answer, then the circle game
//   startDemo(pos);   // logged out: the same, locally, with a fixed question
//   quizBusy();       // true while a quiz is loading or open
//
// Phases of one run: loading → quiz → answering → (game → harvesting) → done.

import { announce } from './achievements.js';
import { api, ApiError, messageFor } from './api.js';
import { clock, countdown } from './clock.js';
import { h } from './dom.js';
import { fmtNumber, t, tn } from './i18n.js';
import { moveTarget } from './game.js';
import { toast } from './toast.js';

const HARVEST_WINDOW_MS = 5000;
const LETTERS = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'];

// The demo quiz's texts are in the catalogues (quiz.demo_*).
const DEMO = { options: 4, correct: 1, timeLimit: 20 };
let hooks = {};
let dialog = null;
const el = {};
let run = null; // the current quiz, or null

function build() {
  el.lemon = h('span', { id: 'quiz-lemon', class: 'quiz-lemon' });
  el.timerFill = h('span', { class: 'bar-fill' });
  el.seconds = h('span', { id: 'quiz-seconds', class: 'bar-seconds' });
  el.timer = h('div', { id: 'quiz-timer', class: 'bar-timer' },
    h('span', { class: 'bar-track', 'aria-hidden': 'true' }, el.timerFill), el.seconds);
  el.golden = h('p', { id: 'quiz-golden', class: 'quiz-golden', hidden: true }, t('quiz.golden'));
  el.question = h('p', { id: 'quiz-question', class: 'quiz-question' });
  el.options = h('div', { id: 'quiz-options', class: 'quiz-options', role: 'group', 'aria-labelledby': 'quiz-question' });
  el.feedback = h('p', { id: 'quiz-feedback', class: 'quiz-feedback', role: 'status', hidden: true });
  el.explanation = h('p', { id: 'quiz-explanation', class: 'quiz-explanation', hidden: true });
  el.quizStep = h('div', { id: 'quiz-step', class: 'dialog-step' }, el.timer, el.golden, el.question, el.options);

  el.gameFill = h('span', { class: 'bar-fill' });
  el.gameSeconds = h('span', { id: 'harvest-seconds', class: 'bar-seconds' });
  el.bar = h('div', {
    id: 'harvest-bar', class: 'bar-track', role: 'progressbar', 'aria-label': t('quiz.time_left_label'),
    'aria-valuemin': 0, 'aria-valuemax': 5, 'aria-valuenow': 5,
  }, el.gameFill);
  el.target = h('button', { type: 'button', id: 'harvest-target', class: 'harvest-target', 'aria-label': t('quiz.catch'), onclick: onHit },
    h('span', { class: 'harvest-dot', 'aria-hidden': 'true' }, '🍋'));
  el.area = h('div', { id: 'harvest-area', class: 'harvest-area' }, el.target);
  el.game = h('div', { id: 'harvest-game', class: 'harvest-game', hidden: true },
    h('p', { class: 'harvest-title' }, t('quiz.correct_catch')),
    h('div', { class: 'bar-timer' }, el.bar, el.gameSeconds),
    el.area);
  el.result = h('p', { id: 'harvest-result', class: 'harvest-result', role: 'status', hidden: true });

  el.login = h('button', { type: 'button', id: 'quiz-login', class: 'btn btn-primary', dataset: { action: 'login' }, hidden: true, onclick: () => dialog.close() }, t('header.login'));
  el.close = h('button', { type: 'button', id: 'quiz-close', class: 'btn btn-ghost', hidden: true, onclick: () => dialog.close() }, t('common.close'));

  return h('dialog', { id: 'quiz-dialog', class: 'dialog quiz-dialog', 'aria-labelledby': 'quiz-title' },
    h('div', { class: 'dialog-body' },
      h('div', { class: 'dialog-head' },
        h('h2', { id: 'quiz-title' }, t('quiz.title'), ' ', el.lemon),
        h('button', { type: 'button', class: 'icon-btn', 'aria-label': t('common.close'), onclick: () => dialog.close() }, '×')),
      el.quizStep, el.game, el.feedback, el.result, el.explanation,
      h('div', { class: 'dialog-actions' }, el.close, el.login)));
}

export function initQuiz(callbacks) {
  hooks = callbacks;
  dialog = build();
  dialog.addEventListener('cancel', (event) => {
    // Don't drop a request that is already on its way.
    if (run && (run.phase === 'answering' || run.phase === 'harvesting')) event.preventDefault();
  });
  dialog.addEventListener('close', cleanUp);
  document.body.append(dialog);
}

export function quizBusy() {
  return run !== null;
}

function show(node, text) {
  node.textContent = text ?? '';
  node.hidden = !text;
}

function stopTimers() {
  run?.timer?.stop();
  run?.stopMover?.();
  if (run) {
    run.timer = null;
    run.stopMover = null;
  }
}

function cleanUp() {
  const opener = run?.opener;
  stopTimers();
  run = null;
  // Focus goes back to the lemon; if it was harvested meanwhile, to the tree.
  requestAnimationFrame(() => {
    if (document.activeElement && document.activeElement !== document.body) return;
    const target = opener?.isConnected ? opener : document.querySelector('#tree-lemons .lemon') ?? document.getElementById('main');
    target?.focus?.({ preventScroll: true });
  });
}

// ---- Starting ----------------------------------------------------------------

export async function startQuiz(pos, opener) {
  if (run) return;
  run = { pos, demo: false, phase: 'loading', opener };
  let quiz;
  try {
    quiz = await api('GET', `/quiz/${pos}`);
    if (!quiz || typeof quiz.question !== 'string' || !Array.isArray(quiz.options) || !Number.isInteger(quiz.attemptID)) {
      throw new ApiError({ status: 200, name: 'invalid_response', text: t('quiz.unreadable') });
    }
  } catch (err) {
    run = null;
    startFailed(pos, err);
    return;
  }
  run.attemptID = quiz.attemptID;
  run.golden = quiz.golden === true;
  open(quiz.question, quiz.options, quiz.timeLimit);
}

export function startDemo(pos, opener) {
  if (run) return;
  run = { pos, demo: true, phase: 'loading', opener };
  const options = Array.from({ length: DEMO.options }, (_, i) => t(`quiz.demo_option_${i}`));
  open(t('quiz.demo_question'), options, DEMO.timeLimit);
}

function startFailed(pos, err) {
  const code = err instanceof ApiError ? err.code : null;
  const wait = Number.isInteger(err?.data?.waitSeconds) ? err.data.waitSeconds : null;
  switch (code) {
    case 1500:
      if (wait != null) hooks.onCooldown?.(wait);
      toast(wait != null ? t('quiz.cooldown', { time: clock(wait) }) : messageFor(err), 'warning');
      break;
    case 1400:
      hooks.onLemonGone?.(pos);
      toast(t('quiz.gone', { said: err.text ? messageFor(err) : t('quiz.not_on_tree') }), 'info');
      break;
    case 1600:
      toast(t('quiz.in_progress', { said: messageFor(err) }), 'warning');
      break;
    case 1607:
      toast(err.text ? messageFor(err) : t('quiz.locked_out'), 'warning');
      break;
    default:
      toast(t('quiz.start_failed', { said: messageFor(err) }), 'error');
  }
}

function open(question, options, timeLimit) {
  const seconds = Number.isFinite(timeLimit) && timeLimit > 0 ? timeLimit : 30;
  el.lemon.textContent = run.demo ? t('quiz.demo') : t('quiz.lemon_n', { n: run.pos + 1 });
  el.question.textContent = question;
  el.golden.hidden = !run.golden;
  el.options.replaceChildren(...options.map((text, i) => h('button', {
    type: 'button', class: 'quiz-option', dataset: { index: String(i) }, onclick: () => choose(i),
  }, h('span', { class: 'option-letter', 'aria-hidden': 'true' }, LETTERS[i] ?? String(i + 1)),
  h('span', { class: 'option-text' }, String(text)))));
  el.quizStep.hidden = false;
  el.game.hidden = true;
  el.target.disabled = false;
  el.target.classList.remove('is-caught');
  for (const node of [el.feedback, el.explanation, el.result]) show(node, '');
  el.close.hidden = true;
  el.login.hidden = true;
  el.timer.classList.remove('is-low');
  el.timer.hidden = false;

  run.phase = 'quiz';
  if (!dialog.open) dialog.showModal();
  el.options.querySelector('.quiz-option')?.focus();

  run.timer = countdown(seconds * 1000, {
    tick(fraction, left) {
      el.timerFill.style.transform = `scaleX(${fraction})`;
      const label = t('quiz.seconds_left', { s: left });
      if (el.seconds.textContent !== label) el.seconds.textContent = label;
      el.timer.classList.toggle('is-low', left <= 5);
    },
    end() {
      if (run?.phase !== 'quiz') return;
      setOptionsDisabled(true);
      finish(t(run.demo ? 'quiz.time_ran_out' : 'quiz.time_ran_out_closed'), 'bad');
    },
  });
}

function setOptionsDisabled(disabled) {
  for (const b of el.options.querySelectorAll('.quiz-option')) b.disabled = disabled;
}

function feedback(text, tone) {
  show(el.feedback, text);
  el.feedback.dataset.tone = tone;
}

// The run is over: show the message and the way out.
function finish(text, tone, { result = false } = {}) {
  stopTimers();
  run.phase = 'done';
  if (run.demo) text = t('quiz.demo_login', { text });
  if (result) {
    el.game.hidden = true;
    show(el.result, text);
    el.result.dataset.tone = tone;
  } else {
    feedback(text, tone);
  }
  if (run.explanation) show(el.explanation, run.explanation);
  el.close.hidden = false;
  el.login.hidden = !run.demo;
  (run.demo ? el.login : el.close).focus();
}

// ---- Answering ---------------------------------------------------------------

async function choose(index) {
  if (run?.phase !== 'quiz') return;
  run.phase = 'answering';
  stopTimers();
  setOptionsDisabled(true);
  el.timer.hidden = true;
  const buttons = [...el.options.querySelectorAll('.quiz-option')];
  buttons[index]?.classList.add('is-chosen');

  let answer;
  const sentAt = Date.now();
  if (run.demo) {
    const isCorrect = index === DEMO.correct;
    answer = { isCorrect, status: 'done', correctOption: DEMO.correct, harvestEnabled: isCorrect || undefined, explanation: t('quiz.demo_explanation') };
  } else {
    const current = run;
    try {
      answer = await api('POST', '/quiz/answer', { optionIdx: index, attemptID: run.attemptID });
    } catch (err) {
      if (run !== current) return; // the dialog was closed meanwhile
      const lead = t(err.code === 1605 ? 'quiz.not_running' : 'quiz.not_checked');
      finish(`${lead} ${messageFor(err)}`, 'bad');
      return;
    }
    if (run !== current) return;
  }

  const correct = Number.isInteger(answer?.correctOption) ? answer.correctOption : (answer?.isCorrect ? index : -1);
  buttons.forEach((b, i) => {
    if (i === correct) markOption(b, 'is-right', t('quiz.mark_right'));
    else if (i === index) markOption(b, 'is-wrong', t('quiz.mark_wrong'));
  });
  if (answer?.explanation) show(el.explanation, t('quiz.why', { text: answer.explanation }));

  if (answer?.status === 'timeout') {
    finish(t('quiz.answer_late'), 'bad');
  } else if (answer?.isCorrect && answer.harvestEnabled) {
    startGame(answer, sentAt);
  } else if (answer?.isCorrect) {
    finish(t('quiz.correct_late'), 'bad');
  } else {
    finish(t(run.demo ? 'quiz.wrong' : 'quiz.wrong_regrow'), 'bad');
  }
}

function markOption(button, cls, note) {
  button.classList.add(cls);
  button.append(h('span', { class: 'visually-hidden' }, t('quiz.mark', { note })));
}

// ---- The circle game ---------------------------------------------------------

function windowMs(answer, sentAt) {
  const until = answer.harvestTimeoutAt ? Date.parse(answer.harvestTimeoutAt) : NaN;
  const left = until - Date.now();
  if (Number.isFinite(left) && left > 0 && left <= HARVEST_WINDOW_MS) return left;
  // No usable server time (missing, or the clocks disagree): 5 s from when the answer was sent.
  return Math.max(1000, HARVEST_WINDOW_MS - (Date.now() - sentAt));
}

function startGame(answer, sentAt) {
  run.phase = 'game';
  const ms = run.demo ? HARVEST_WINDOW_MS : windowMs(answer, sentAt);
  el.quizStep.hidden = true;
  run.explanation = el.explanation.textContent; // shown again when the game is over
  show(el.explanation, '');
  show(el.feedback, '');
  el.game.hidden = false;
  el.bar.classList.remove('is-low');
  run.stopMover = moveTarget(el.area, el.target);
  el.target.focus({ preventScroll: true });
  run.timer = countdown(ms, {
    tick(fraction, left) {
      el.gameFill.style.transform = `scaleX(${fraction})`;
      el.bar.setAttribute('aria-valuenow', String(left));
      const label = t('quiz.seconds', { s: left });
      if (el.gameSeconds.textContent !== label) el.gameSeconds.textContent = label;
      el.bar.classList.toggle('is-low', fraction < 0.4);
    },
    end() {
      if (run?.phase !== 'game') return;
      el.target.disabled = true;
      finish(t('quiz.circle_away'), 'bad', { result: true });
    },
  });
}

async function onHit() {
  if (run?.phase !== 'game') return;
  run.phase = 'harvesting';
  stopTimers();
  el.target.classList.add('is-caught');
  el.target.disabled = true;

  if (run.demo) {
    finish(t('quiz.demo_caught'), 'good', { result: true });
    return;
  }

  const current = run;
  show(el.result, t('quiz.harvesting'));
  el.result.dataset.tone = '';
  try {
    const res = await api('POST', '/lemon/harvest', { positionId: current.pos, attemptId: current.attemptID });
    const amount = Number(res?.harvestAmount) || 0;
    const balance = Number.isFinite(res?.newBalance) ? fmtNumber(res.newBalance) : '–';
    const text = t('quiz.harvested', { lemons: tn('unit.lemons', amount), balance });
    hooks.onHarvested?.(current.pos, res);
    announce(res);
    if (run === current) finish(text, 'good', { result: true });
    else toast(text, 'success');
  } catch (err) {
    const text = harvestErrorText(err, current.pos);
    if (run === current) finish(text, 'bad', { result: true });
    else toast(text, 'error');
  }
}

// A live event says someone harvested lemon pos. While the circle runs, the race is lost:
// say so at once. While the question is open, say so but let it be answered (the answer
// frees the quiz lock on the server, so the next quiz can start at once).
export function lemonTaken(pos) {
  if (!run || run.demo || run.pos !== pos) return;
  if (run.phase === 'game') {
    el.target.disabled = true;
    finish(t('quiz.someone_faster'), 'bad', { result: true });
  } else if (run.phase === 'quiz') {
    feedback(t('quiz.taken_meanwhile'), 'bad');
  }
}

function harvestErrorText(err, pos) {
  const said = messageFor(err);
  switch (err?.code) {
    case 1606:
      hooks.onLemonGone?.(pos);
      return err.text ? t('quiz.better_luck', { said }) : t('quiz.someone_faster');
    case 1604:
      return err.text ? said : t('quiz.too_late');
    case 1500: {
      const wait = err.data?.waitSeconds;
      if (Number.isInteger(wait)) hooks.onCooldown?.(wait);
      return said;
    }
    case 1501:
      return t('quiz.storage_full', { said });
    case 1601:
    case 1602:
      return said;
    default:
      return t('quiz.harvest_failed', { said });
  }
}
