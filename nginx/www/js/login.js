// The login dialog: step 1 asks for an e-mail and sends a code,
// step 2 asks for the 6-digit code. Open it with openLogin(), or give any
// element data-action="login" (js/app.js wires those up).

import { api, ApiError, messageFor } from './api.js';
import { h } from './dom.js';
import { t } from './i18n.js';
import { isLoggedIn, login, refreshProfile } from './session.js';
import { toast } from './toast.js';

const RESEND_SECONDS = 60;
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]{2,}$/;

let dialog = null;
const el = {}; // the dialog's elements, by short name
const state = { email: '', resendAt: 0, timer: null };

function build() {
  el.error = h('p', { id: 'login-error', class: 'form-error', role: 'alert', hidden: true });
  el.note = h('p', { id: 'login-note', class: 'form-note', role: 'status', hidden: true });

  el.email = h('input', {
    id: 'login-email', name: 'email', type: 'email', autocomplete: 'email',
    autocapitalize: 'off', spellcheck: 'false', required: true, 'aria-describedby': 'login-email-hint',
  });
  el.send = h('button', { id: 'login-send', type: 'submit', class: 'btn btn-primary btn-block' }, t('login.send'));
  el.emailStep = h('form', { class: 'dialog-step', novalidate: true, onsubmit: onSend },
    h('div', { class: 'field' },
      h('label', { for: 'login-email' }, t('login.email_label')),
      el.email,
      h('p', { id: 'login-email-hint', class: 'hint' }, t('login.email_hint'))),
    el.send);

  el.welcome = h('p', { id: 'login-welcome', class: 'welcome' });
  el.sentTo = h('p', { id: 'login-sent-to' });
  el.code = h('input', {
    id: 'login-code', name: 'otp', type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code',
    maxlength: 6, pattern: '[0-9]{6}', required: true, class: 'code-input', oninput: onCodeInput,
  });
  el.verify = h('button', { id: 'login-verify', type: 'submit', class: 'btn btn-primary btn-block' }, t('login.verify'));
  el.resend = h('button', { id: 'login-resend', type: 'button', class: 'btn btn-ghost', onclick: onResend }, t('login.resend'));
  el.back = h('button', { id: 'login-back', type: 'button', class: 'btn-link', onclick: backToEmail }, t('login.back'));
  el.codeStep = h('form', { class: 'dialog-step', novalidate: true, hidden: true, onsubmit: onVerify },
    el.welcome,
    el.sentTo,
    h('div', { class: 'field' }, h('label', { for: 'login-code' }, t('login.code_label')), el.code),
    el.verify,
    h('div', { class: 'step-links' }, el.resend, el.back));

  return h('dialog', { id: 'login-dialog', class: 'dialog', 'aria-labelledby': 'login-title' },
    h('div', { class: 'dialog-body' },
      h('div', { class: 'dialog-head' },
        h('h2', { id: 'login-title' }, t('login.title')),
        h('button', { type: 'button', class: 'icon-btn', 'aria-label': t('common.close'), onclick: () => dialog.close() }, '×')),
      el.error,
      el.note,
      el.emailStep,
      el.codeStep));
}

export function initLogin() {
  if (dialog) return;
  dialog = build();
  // A click on the backdrop (outside .dialog-body) closes the dialog; Escape does natively.
  let pressedOnBackdrop = false;
  dialog.addEventListener('mousedown', (event) => { pressedOnBackdrop = event.target === dialog; });
  dialog.addEventListener('click', (event) => {
    if (pressedOnBackdrop && event.target === dialog) dialog.close();
  });
  dialog.addEventListener('close', () => showMessage(el.error, ''));
  document.body.append(dialog);
}

export function openLogin() {
  if (isLoggedIn()) return;
  initLogin();
  if (!dialog.open) dialog.showModal();
  (el.codeStep.hidden ? el.email : el.code).focus();
}

function showMessage(target, text) {
  target.textContent = text;
  target.hidden = !text;
}

function showStep(step) {
  el.emailStep.hidden = step !== 'email';
  el.codeStep.hidden = step !== 'code';
  showMessage(el.note, '');
}

// isNewUser: true, false, or null when unknown.
function goToCode(isNewUser) {
  el.welcome.textContent = t(isNewUser === true ? 'login.welcome' : isNewUser === false ? 'login.welcome_back' : 'login.enter_code');
  const [before, after] = t('login.sent_to').split('{email}');
  el.sentTo.replaceChildren(before, h('strong', {}, state.email), after);
  el.code.value = '';
  showStep('code');
  el.code.focus();
}

function backToEmail() {
  showMessage(el.error, '');
  showStep('email');
  el.email.focus();
}

// Runs fn with the button disabled and showing busyLabel.
async function whileBusy(button, busyLabel, fn) {
  const label = button.textContent;
  button.disabled = true;
  button.textContent = busyLabel;
  try {
    await fn();
  } finally {
    button.disabled = false;
    button.textContent = label;
  }
}

function sendCode(email) {
  return api('POST', '/send-otp?type=authentication', { email });
}

async function onSend(event) {
  event.preventDefault();
  showMessage(el.error, '');
  const email = el.email.value.trim().toLowerCase();
  if (!EMAIL_PATTERN.test(email)) {
    showMessage(el.error, t('login.bad_email'));
    el.email.focus();
    return;
  }
  await whileBusy(el.send, t('login.sending'), async () => {
    try {
      const result = await sendCode(email);
      state.email = email;
      goToCode(result?.isNewUser === true);
      startResendCountdown(RESEND_SECONDS);
    } catch (err) {
      if (err instanceof ApiError && err.name === 'too_early_resend') {
        // A code was sent to this address moments ago: let the person type it in.
        state.email = email;
        goToCode(null);
        startResendCountdown(err.retryAfter ?? RESEND_SECONDS);
      }
      showMessage(el.error, messageFor(err));
    }
  });
}

async function onResend() {
  showMessage(el.error, '');
  showMessage(el.note, '');
  el.resend.disabled = true;
  el.resend.textContent = t('login.sending');
  try {
    await sendCode(state.email);
    startResendCountdown(RESEND_SECONDS);
    showMessage(el.note, t('login.resent'));
    el.code.value = '';
    el.code.focus();
  } catch (err) {
    const wait = err instanceof ApiError && err.status === 429 ? (err.retryAfter ?? RESEND_SECONDS) : 0;
    startResendCountdown(wait);
    showMessage(el.error, messageFor(err));
  }
}

function startResendCountdown(seconds) {
  clearInterval(state.timer);
  state.resendAt = Date.now() + seconds * 1000;
  updateResend();
  if (seconds > 0) state.timer = setInterval(updateResend, 250);
}

function updateResend() {
  const left = Math.ceil((state.resendAt - Date.now()) / 1000);
  const label = left > 0 ? t('login.resend_in', { s: left }) : t('login.resend');
  el.resend.disabled = left > 0;
  if (el.resend.textContent !== label) el.resend.textContent = label;
  if (left <= 0) clearInterval(state.timer);
}

function onCodeInput() {
  const digits = el.code.value.replace(/\D/g, '').slice(0, 6);
  if (digits !== el.code.value) el.code.value = digits;
}

async function onVerify(event) {
  event.preventDefault();
  showMessage(el.error, '');
  const otp = el.code.value.replace(/\D/g, '');
  if (otp.length !== 6) {
    showMessage(el.error, t('login.bad_code'));
    el.code.focus();
    return;
  }
  await whileBusy(el.verify, t('login.verifying'), async () => {
    try {
      const result = await api('POST', '/verify-otp?type=authentication', { email: state.email, otp });
      if (!result?.token) throw new ApiError({ status: 200, name: 'invalid_response', text: t('api.invalid_response') });
      login(result.token, result.expiresIn, result.profile);
      reset();
      dialog.close();
      toast(t('login.logged_in'), 'success');
      refreshProfile().catch(() => {}); // a new account's first profile may predate its welcome bonus
    } catch (err) {
      showMessage(el.error, messageFor(err));
      el.code.focus();
      el.code.select();
    }
  });
}

function reset() {
  clearInterval(state.timer);
  state.email = '';
  state.resendAt = 0;
  el.email.value = '';
  el.code.value = '';
  updateResend();
  showStep('email');
}
