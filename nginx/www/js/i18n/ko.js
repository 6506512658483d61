// Korean catalogue (한국어): the same keys as en.js, one entry per line.
// SQL and product terms (PostgreSQL, Redis, COMMIT) stay as they are.
export default {
  'lang.en': 'English',
  'lang.ko': '한국어',
  'nav.label': '주 메뉴',
  'nav.home': '홈',
  'nav.dashboard': '대시보드',
  'nav.account': '계정',
  'header.theme_light': '밝은 테마로 전환',
  'header.theme_dark': '어두운 테마로 전환',
  'header.your_account': '내 계정',
  'header.your_lemons': '내 레몬',
  'header.balance_label': '레몬 잔액: ',
  'header.logout': '로그아웃',
  'header.login': '로그인',
  'header.language': '언어',
  'app.logged_out': '로그아웃되었습니다.',
  'app.logged_out_again': '로그아웃되었습니다. 다시 로그인해 주세요.',
  'app.logged_out_expired': '세션이 만료되어 로그아웃되었습니다. 다시 로그인해 주세요.',
};
