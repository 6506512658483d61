// English catalogue: flat key → text, {name} placeholders, plurals as
// '<key>.one' / '<key>.other'. One entry per line (tests/browser/i18n_keys.py
// reads it); every key here must also be in ko.js.
export default {
  'lang.en': 'English',
  'lang.ko': '한국어',
  'nav.label': 'Main',
  'nav.home': 'Home',
  'nav.dashboard': 'Dashboard',
  'nav.account': 'Account',
  'header.theme_light': 'Switch to light theme',
  'header.theme_dark': 'Switch to dark theme',
  'header.your_account': 'Your account',
  'header.your_lemons': 'Your lemons',
  'header.balance_label': 'Lemon balance: ',
  'header.logout': 'Log out',
  'header.login': 'Log in',
  'header.language': 'Language',
  'app.logged_out': 'You have been logged out.',
  'app.logged_out_again': 'You have been logged out. Please log in again.',
  'app.logged_out_expired': 'You have been logged out because your session expired. Please log in again.',
};
