package models

import "strings"

// commonPasswords are the most common passwords of 12 characters or more, from public breach
// corpora; shorter ones are refused by length anyway.
var commonPasswords = map[string]bool{}

func init() {
	for _, p := range strings.Fields(`
		123456789012 1234567890123 12345678901234 123456789012345 1234567890qwerty
		password1234 password12345 password123456 passwordpassword password1234567
		qwertyuiop12 qwertyuiop123 qwerty123456 qwerty1234567 qwertyqwerty 1q2w3e4r5t6y
		1qaz2wsx3edc qazwsxedcrfv zaq12wsxcde3 asdfghjkl123 zxcvbnm12345 abcdefghijkl
		abc123456789 aaaaaaaaaaaa 111111111111 000000000000 112233445566 123123123123
		iloveyou1234 iloveyouiloveyou letmein12345 welcome12345 welcome123456 changeme1234
		trustno11234 monkey123456 dragon123456 football1234 baseball1234 sunshine1234
		princess1234 superman1234 starwars1234 administrator admin1234567 adminadmin12
		passw0rd1234 p@ssw0rd1234 p@ssword1234 password!234 password1234! password123!
		correcthorsebatterystaple 987654321098 098765432109 147258369147 qwertyuiopasdfgh
	`) {
		commonPasswords[p] = true
	}
}

// CommonPassword reports whether p, ignoring case, is one of the most common passwords.
func CommonPassword(p string) bool { return commonPasswords[strings.ToLower(p)] }
